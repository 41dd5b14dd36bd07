package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.List;

/** The restore Job and the scripts backups run, rendered from an environment's values. Pure. */
public final class BackupJobs {

  private BackupJobs() {}

  public static String backupScript() {
    return BackupModel.BACKUP_SCRIPT;
  }

  public static String restoreScript() {
    return BackupModel.RESTORE_SCRIPT;
  }

  /** A Job that restores {@code backup} ("latest" or a file name in the backups claim) into the environment's database. */
  public static Job restoreJob(EnvironmentValues values, String backup, String name) {
    PostgresModel postgres = new PostgresModel(values, java.util.Optional.empty());
    BackupModel model = new BackupModel(values, java.util.Optional.empty(), postgres);
    return new JobBuilder()
        .withMetadata(PodParts.metadata(name, values, Labels.BACKUP, java.util.Optional.empty()))
        .withNewSpec()
        .withBackoffLimit(0)
        .withActiveDeadlineSeconds(6 * 3600L)
        .withTtlSecondsAfterFinished(7 * 24 * 3600)
        .withNewTemplate()
        .withNewMetadata().withLabels(PodParts.podLabels(values, Labels.BACKUP)).endMetadata()
        .withSpec(model.podSpec(List.of("/bin/sh", "-c", BackupModel.RESTORE_SCRIPT), List.of(
            PodParts.literal("BACKUP_DIR", BackupModel.MOUNT),
            PodParts.literal("BACKUP_FILE", backup))))
        .endTemplate()
        .endSpec()
        .build();
  }
}
