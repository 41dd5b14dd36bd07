package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.List;
import java.util.Optional;

/** The restore Job, rendered from an environment's values. Pure. */
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
}
