package io.langconnect.gitops.cli;

import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "backup", mixinStandardHelpOptions = true,
    description = {"Start a backup now: a Job made from the environment's backup CronJob; prints the Job's name.",
        "On CloudNativePG with backup.objectStore: a Backup of what its ScheduledBackup backs up, refused while another"
            + " backup of the Cluster has not ended; prints the Backup's name."})
final class BackupCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  EnvironmentTarget target;

  @Override
  public Integer call() throws Exception {
    EnvironmentValues environment = target.environment();
    try (ClusterSession cluster = new ClusterSession(target.config())) {
      String started = new BackupService(target.cluster(cluster, environment).client()).backupNow(environment.namespace(),
          environment.environment());
      spec.commandLine().getOut().println(started);
      return 0;
    } catch (BackupService.BackupException e) {
      throw new Main.UserError(e.getMessage());
    }
  }
}
