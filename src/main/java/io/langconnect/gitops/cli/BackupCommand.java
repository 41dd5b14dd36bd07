package io.langconnect.gitops.cli;

import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.values.EnvironmentValues;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "backup", mixinStandardHelpOptions = true,
    description = "Start a backup now: a Job made from the environment's backup CronJob. Prints the Job's name.")
final class BackupCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  ControllerOptions options;

  @Option(names = "--env", required = true, paramLabel = "NAME", description = "The environment.")
  String env;

  @Option(names = "--values", paramLabel = "DIR", description = "Use a local values folder instead of the repository.")
  Path values;

  @Override
  public Integer call() throws Exception {
    ControllerConfig config = options.load();
    EnvironmentValues environment = RestoreCommand.valid(DesiredState.from(values, config), env);
    try (ClusterSession cluster = new ClusterSession(config)) {
      String job = new BackupService(cluster.client).backupNow(environment.namespace(), env);
      spec.commandLine().getOut().println(job);
      return 0;
    } catch (BackupService.BackupException e) {
      throw new Main.UserError(e.getMessage());
    }
  }
}
