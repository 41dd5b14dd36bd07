package io.langconnect.gitops.status;

import io.langconnect.gitops.apply.Health;
import io.langconnect.gitops.apply.SyncResult;
import io.langconnect.gitops.control.Controls;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the status API reports for one environment after its latest sync: the sync's outcome, the health of what
 * runs, whether it is suspended, and the backup taken before its last database change ("" when none).
 */
public record EnvironmentStatus(
    String name,
    String namespace,
    String cluster,
    String revision,
    Result result,
    String message,
    Instant lastSyncTime,
    Duration lastSyncDuration,
    Instant lastSuccessTime,
    List<ObjectStatus> objects,
    long driftCorrections,
    Health health,
    Optional<Controls.Suspension> suspension,
    String lastBackupBeforeChange) {

  /**
   * As Flux and Argo CD name them: Synced, still Progressing (waiting on the database), Failed; Pruned (values file
   * removed); Suspended (nothing applied, the message says what would change); Held (a guard or a failed backup
   * holds the change, the message says what to do); PruneHeld (a removal that waits for {@code prune --confirm}).
   */
  public enum Result {
    SYNCED("Synced"), PROGRESSING("Progressing"), FAILED("Failed"), PRUNED("Pruned"), SUSPENDED("Suspended"),
    HELD("Held"), PRUNE_HELD("PruneHeld");

    private final String label;

    Result(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /** {@code note} says why an object was skipped (e.g. "not ours: managed-by=helm, ...") or held, else empty. */
  public record ObjectStatus(String kind, String name, String action, boolean driftCorrected, String note) {
    public static ObjectStatus of(SyncResult.ObjectResult result) {
      return new ObjectStatus(result.ref().kind(), result.ref().name(), result.action().name().toLowerCase(),
          result.driftCorrected(), result.note());
    }
  }

  public EnvironmentStatus {
    objects = List.copyOf(objects);
    health = health == null ? Health.UNKNOWN : health;
    lastBackupBeforeChange = lastBackupBeforeChange == null ? "" : lastBackupBeforeChange;
  }

  /** Flux's Ready: the latest revision was applied and what runs is healthy. */
  public boolean ready() {
    return result == Result.SYNCED && health.ready();
  }

  public EnvironmentStatus withHealth(Health newHealth) {
    return new EnvironmentStatus(name, namespace, cluster, revision, result, message, lastSyncTime, lastSyncDuration,
        lastSuccessTime, objects, driftCorrections, newHealth, suspension, lastBackupBeforeChange);
  }
}
