package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Renders one environment's stack. Pure: the same values and revision give equal objects, in the
 * order they should be applied (what a pod consumes before the pod, the database before its client).
 */
public final class StackRenderer {

  /** Every kind a render can hold, as {@code apiVersion/kind}: the only kinds the controller manages. */
  public static final java.util.Set<String> KINDS = java.util.Set.of("v1/Secret", "v1/PersistentVolumeClaim", "v1/Service",
      "apps/v1/Deployment", "apps/v1/StatefulSet", "autoscaling/v2/HorizontalPodAutoscaler", "batch/v1/CronJob",
      CloudnativePgModel.API_VERSION + "/Cluster", CloudnativePgModel.API_VERSION + "/ScheduledBackup");

  private StackRenderer() {}

  public static List<HasMetadata> render(EnvironmentValues values, Optional<String> revision) {
    PostgresModel postgres = new PostgresModel(values, revision);
    LangConnectModel langconnect = new LangConnectModel(values, revision, postgres);
    BackupModel backup = new BackupModel(values, revision, postgres);
    CloudnativePgModel cloudnativePg = new CloudnativePgModel(values, revision);
    return Stream.<HasMetadata>of(
            postgres.secret(),
            postgres.dataClaim(),
            backup.backupClaim(),
            postgres.service(),
            postgres.statefulSet(),
            cloudnativePg.cluster(),
            cloudnativePg.scheduledBackup(),
            langconnect.secret(),
            langconnect.deployment(),
            langconnect.service(),
            langconnect.autoscaler(),
            backup.cronJob())
        .filter(Objects::nonNull)
        .toList();
  }
}
