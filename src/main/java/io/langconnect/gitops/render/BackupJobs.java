package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.List;
import java.util.Optional;

/** The restore Job and the import pod, rendered from an environment's values. Pure. */
public final class BackupJobs {

  private BackupJobs() {}

  /**
   * A Job that restores {@code backup} ("latest" or a dump's file name) into the environment's database: from the
   * object store when the values name one, else from the backups claim.
   */
  public static Job restoreJob(EnvironmentValues values, String backup, String name) {
    BackupModel model = new BackupModel(values, Optional.empty(), new PostgresModel(values, Optional.empty()));
    return new JobBuilder()
        .withMetadata(PodParts.metadata(name, values, Labels.BACKUP, Optional.empty()))
        .withNewSpec()
        .withBackoffLimit(0)
        .withActiveDeadlineSeconds(6 * 3600L)
        .withTtlSecondsAfterFinished(7 * 24 * 3600)
        .withNewTemplate()
        .withNewMetadata().withLabels(PodParts.podLabels(values, Labels.BACKUP)).endMetadata()
        .withSpec(model.restorePodSpec(backup))
        .endTemplate()
        .endSpec()
        .build();
  }

  /** The restore Job's script: restores BACKUP_FILE (a path, or a name in BACKUP_DIR) into PGDATABASE. */
  public static String restoreScript() {
    return BackupModel.RESTORE_SCRIPT;
  }

  /** A pod to stream a local dump through into an external database (see {@code BackupModel#importPodSpec}). */
  public static io.fabric8.kubernetes.api.model.Pod importPod(EnvironmentValues values, String name) {
    BackupModel model = new BackupModel(values, Optional.empty(), new PostgresModel(values, Optional.empty()));
    return new io.fabric8.kubernetes.api.model.PodBuilder()
        .withMetadata(PodParts.metadata(name, values, Labels.BACKUP, Optional.empty()))
        .withSpec(model.importPodSpec())
        .build();
  }
}
