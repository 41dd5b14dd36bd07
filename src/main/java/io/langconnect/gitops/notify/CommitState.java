package io.langconnect.gitops.notify;

import io.langconnect.gitops.apply.Health;
import io.langconnect.gitops.status.EnvironmentStatus;
import java.util.Optional;

/**
 * What a commit status says of one environment at one commit: pending while it is applied or not Ready yet, success
 * once Ready, failure with the reason. Pure.
 */
public record CommitState(State state, String description) {

  public enum State { PENDING, SUCCESS, FAILURE }

  /** Forges cut descriptions (GitHub at 140 characters); the cut is made here, visibly. */
  static final int MAX_DESCRIPTION = 140;

  public CommitState {
    description = description.length() <= MAX_DESCRIPTION ? description
        : description.substring(0, MAX_DESCRIPTION - 1) + "…";
  }

  /** Said when a sync of a new commit starts. */
  public static CommitState applying() {
    return new CommitState(State.PENDING, "applying");
  }

  /**
   * The status a sync's outcome (or a later change of health) gives its commit; none for outcomes that say nothing
   * of the commit (suspended: nothing was applied; pruned: the environment is gone).
   */
  public static Optional<CommitState> of(EnvironmentStatus status) {
    return switch (status.result()) {
      case FAILED -> Optional.of(new CommitState(State.FAILURE, "failed: " + status.message()));
      case HELD, PRUNE_HELD -> Optional.of(new CommitState(State.FAILURE, "held: " + status.message()));
      case PROGRESSING -> Optional.of(new CommitState(State.PENDING, "progressing: " + status.message()));
      case SYNCED -> Optional.of(ofHealth(status.health()));
      case SUSPENDED, PRUNED -> Optional.empty();
    };
  }

  private static CommitState ofHealth(Health health) {
    return switch (health.state()) {
      case READY -> new CommitState(State.SUCCESS, "Ready");
      case DEGRADED -> new CommitState(State.FAILURE, "degraded: " + health.message());
      case PROGRESSING, UNKNOWN -> new CommitState(State.PENDING, "applied, waiting for Ready: " + health.message());
    };
  }

  static boolean isCommit(String revision) {
    return revision != null && revision.matches("[0-9a-f]{40}([0-9a-f]{24})?");
  }
}
