package io.langconnect.gitops.cli;

import io.langconnect.gitops.render.Names;
import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.values.EnvironmentValues;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "restore", mixinStandardHelpOptions = true,
    description = "Restore the environment's database from a backup on its backups volume or in its object store (a"
        + " Job), or import a local dump (plain SQL or custom format, e.g. from a Docker Compose setup) into the running"
        + " database pod. The environment is suspended and LangConnect scaled to 0 meanwhile, a safety backup is taken"
        + " first, and both are undone whatever the outcome.%n"
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

    @Option(names = "--to", paramLabel = "TIME", description = "CloudNativePG only: recover a new Cluster from the"
        + " object store up to TIME (RFC 3339, e.g. 2026-12-06T10:15:00Z); with --confirm, switch LangConnect to it.")
    String time;
  }

  @Option(names = "--confirm", description = "Really restore: the database's current contents are replaced (with --to:"
      + " LangConnect is switched to the recovered Cluster).")
  boolean confirm;

  @Override
  public Integer call() throws Exception {
    EnvironmentValues environment = target.environment();
    if (source.time != null) return new PointInTimeRestore(target, spec.commandLine()).run(environment, source.time, confirm);
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
      KubernetesClient client = target.cluster(cluster, environment).client();
      BackupService backups = new BackupService(client);
      PrintWriter err = spec.commandLine().getErr();
      // Nothing else writes while it runs: the controller leaves the environment alone, LangConnect is stopped.
      boolean suspendedHere = cluster.controls.read(env).suspension().isEmpty();
      if (suspendedHere) cluster.controls.suspend(env, "langconnect-gitops restore", "restoring " + what);
      var langconnect = client.apps().deployments().inNamespace(environment.namespace())
          .withName(new Names(environment.release()).langconnect());
      Integer replicas = Optional.ofNullable(langconnect.get()).map(d -> d.getSpec().getReplicas()).orElse(null);
      try {
        if (replicas != null) langconnect.scale(0);
        err.println(env + ": suspended and LangConnect scaled to 0 for the restore");
        safetyBackup(backups, environment, err);
        if (source.file != null) {
          out.print(backups.restoreFromFile(environment, source.file));
          out.println("imported " + what + " into " + into);
        } else {
          String job = backups.restoreFromBackups(environment, source.backup);
          out.println(job);
          out.flush();
          backups.awaitJob(environment.namespace(), job, "restore", RESTORE_TIMEOUT);
          err.println(env + ": restored " + what + " into " + into);
        }
      } catch (BackupService.BackupException e) {
        throw new Main.UserError(e.getMessage() + "; pg_restore runs in one transaction, so a failed restore left the"
            + " database as it was");
      } finally {
        if (replicas != null) langconnect.scale(replicas);
        if (suspendedHere) cluster.controls.resume(env);
        err.println(env + ": LangConnect scaled back to " + replicas + (suspendedHere ? ", resumed" : ", still suspended"
            + " (it was before the restore)"));
        err.flush();
      }
      out.flush();
      return 0;
    }
  }

  /**
   * A dump of what the database holds now, before the restore replaces it: named apart (never "latest", never rotated),
   * so `--backup <its name>` undoes the restore. Without backups there is no CronJob to make it from; said so.
   */
  private void safetyBackup(BackupService backups, EnvironmentValues environment, PrintWriter err) {
    String env = environment.environment();
    try {
      backups.cronJob(environment.namespace(), env);
    } catch (BackupService.BackupException e) {
      err.println(env + ": no safety backup: " + e.getMessage());
      return;
    }
    try {
      String safety = backups.backupNow(environment.namespace(), env, Map.of("DUMP_SUFFIX", BackupService.BEFORE_RESTORE));
      err.println(env + ": safety backup first, Job " + safety + " (its dump ends in " + BackupService.BEFORE_RESTORE
          + ".dump; restore it by name to undo)");
      err.flush();
      backups.awaitJob(environment.namespace(), safety, "safety backup", target.config().sync().backupTimeout());
    } catch (BackupService.BackupException e) {
      throw new Main.UserError(e.getMessage() + "; nothing was restored");
    }
  }

  /** As long as the restore Job itself may run (its activeDeadlineSeconds). */
  private static final java.time.Duration RESTORE_TIMEOUT = java.time.Duration.ofHours(6);
}
