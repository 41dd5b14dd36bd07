package io.langconnect.gitops.cli;

import io.langconnect.gitops.render.Names;
import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.values.EnvironmentValues;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "restore", mixinStandardHelpOptions = true,
    description = "Restore the environment's database from a backup on its backups volume (a Job), or import a"
        + " local dump (plain SQL or custom format, e.g. from a Docker Compose setup) into the running database pod.%n"
        + "Without --confirm it only prints what it would do and exits 1.")
final class RestoreCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  EnvironmentTarget target;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  static final class Source {
    @Option(names = "--backup", paramLabel = "latest|FILE", description = "A dump on the backups volume, or latest.")
    String backup;

    @Option(names = "--from-file", paramLabel = "PATH", description = "A local dump to stream into the database pod.")
    Path file;
  }

  @Option(names = "--confirm", description = "Really restore: the database's current contents are replaced.")
  boolean confirm;

  @Override
  public Integer call() throws Exception {
    EnvironmentValues environment = target.environment();
    String env = environment.environment();
    if (source.file != null && !Files.isReadable(source.file)) {
      throw new Main.UserError("--from-file " + source.file + ": not a readable file");
    }
    PrintWriter out = spec.commandLine().getOut();
    String where = environment.backup().objectStore().map(store -> "in s3://" + store.folder(env) + "/")
        .orElse("on " + new Names(environment.release()).backupClaim());
    String what = source.file != null ? "the local dump " + source.file
        : source.backup.equals("latest") ? "the newest backup " + where : "backup " + source.backup + " " + where;
    String into = "database " + environment.postgres().auth().database() + " of " + env + " (namespace "
        + environment.namespace() + ")";
    if (!confirm) {
      out.println("would restore " + what + " into " + into + ", replacing the objects the dump contains;"
          + " run again with --confirm to do it");
      out.flush();
      return 1;
    }
    try (ClusterSession cluster = new ClusterSession(target.config())) {
      BackupService backups = new BackupService(target.cluster(cluster, environment).client());
      if (source.file != null) {
        out.print(backups.restoreFromFile(environment, source.file));
        out.println("imported " + what + " into " + into);
      } else {
        out.println(backups.restoreFromBackups(environment, source.backup));
      }
      out.flush();
      return 0;
    } catch (BackupService.BackupException e) {
      throw new Main.UserError(e.getMessage());
    }
  }
}
