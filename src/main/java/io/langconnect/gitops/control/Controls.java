package io.langconnect.gitops.control;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * What operators told the controller about one environment, kept in the cluster so that it survives a restart and
 * a change of leader: whether it is suspended (by whom, why, since when), and which held changes they confirmed.
 */
public record Controls(Optional<Suspension> suspension, Optional<String> pruneConfirmedFor,
                       Optional<String> newDatabaseConfirmedFor, boolean skipBackupOnce,
                       Map<String, String> leftPruneConfirmedFor, Optional<RecoveredCluster> recoveredCluster) {

  public static final Controls NONE = new Controls(Optional.empty(), Optional.empty(), Optional.empty(), false, Map.of(),
      Optional.empty());

  /**
   * A confirmed point-in-time restore: the CloudNativePG Cluster {@code cluster} is the database of the environment
   * at {@code target} (namespace/release) from now on. It does not carry over to another release or namespace.
   */
  public record RecoveredCluster(String target, String cluster) {}

  /** A prune confirmation counts for the inventory it was given for (the revision that recorded it), no other. */
  public boolean pruneConfirmed(String inventoryRevision) {
    return pruneConfirmedFor.filter(r -> r.equals(inventoryRevision) || r.equals(LEGACY_PRUNE_CONFIRMATION)).isPresent();
  }

  /**
   * Whether the prune of what a move left on {@code cluster} (its database still running there) is confirmed, for
   * that record as it is now ({@code inventoryRevision}).
   */
  public boolean leftPruneConfirmed(String cluster, String inventoryRevision) {
    return inventoryRevision.equals(leftPruneConfirmedFor.get(cluster));
  }

  /** What a release before the binding wrote: honoured once, and cleared like any other when the file returns. */
  static final String LEGACY_PRUNE_CONFIRMATION = "true";

  /** {@code flux suspend}'s counterpart: no apply, prune or drift correction until resumed. */
  public record Suspension(String by, String reason, Instant since) {
    public String describe() {
      return "suspended by " + by + " at " + since + (reason.isEmpty() ? "" : ": " + reason);
    }
  }

  public boolean suspended() {
    return suspension.isPresent();
  }

  /**
   * Whether these controls differ from {@code before} by something a sync acts on: a suspension set, changed or
   * lifted, or a confirmation given or changed. A confirmation only taken away is not: the sync that used it cleared
   * it (and one more sync then would only repeat that one's outcome, replacing what its status said).
   */
  public boolean isNewsSince(Controls before) {
    if (!suspension.equals(before.suspension)) return true;
    if (pruneConfirmedFor.isPresent() && !pruneConfirmedFor.equals(before.pruneConfirmedFor)) return true;
    if (newDatabaseConfirmedFor.isPresent() && !newDatabaseConfirmedFor.equals(before.newDatabaseConfirmedFor)) return true;
    if (skipBackupOnce && !before.skipBackupOnce) return true;
    for (Map.Entry<String, String> left : leftPruneConfirmedFor.entrySet()) {
      if (!left.getValue().equals(before.leftPruneConfirmedFor.get(left.getKey()))) return true;
    }
    return recoveredCluster.isPresent() && !recoveredCluster.equals(before.recoveredCluster);
  }
}
