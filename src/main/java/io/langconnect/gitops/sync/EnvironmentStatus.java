package io.langconnect.gitops.sync;

import io.langconnect.gitops.apply.SyncResult;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** What the status API reports for one environment after its latest sync. */
public record EnvironmentStatus(
    String name,
    String namespace,
    String revision,
    Result result,
    String message,
    Instant lastSyncTime,
    Duration lastSyncDuration,
    Instant lastSuccessTime,
    List<ObjectStatus> objects,
    long driftCorrections) {

  /** As Flux and Argo CD name them: Synced, still Progressing (waiting on the database), or Failed. */
  public enum Result { SYNCED, PROGRESSING, FAILED, PRUNED }

  /** {@code note} says why an object was skipped (e.g. "not ours: managed-by=helm, ..."), else empty. */
  public record ObjectStatus(String kind, String name, String action, boolean driftCorrected, String note) {
    static ObjectStatus of(SyncResult.ObjectResult result) {
      return new ObjectStatus(result.ref().kind(), result.ref().name(), result.action().name().toLowerCase(),
          result.driftCorrected(), result.note());
    }
  }

  public EnvironmentStatus {
    objects = List.copyOf(objects);
  }
}
