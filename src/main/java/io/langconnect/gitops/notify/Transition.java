package io.langconnect.gitops.notify;

import io.langconnect.gitops.apply.Health;
import io.langconnect.gitops.status.EnvironmentStatus;
import java.util.Optional;

/**
 * The conditions a team is told about, and the transitions between them: an environment that was fine and now
 * failed, is degraded or held by a guard, and one that recovered. Pure.
 */
public final class Transition {

  /** Where an environment stands for its notifications. */
  public enum Condition { HEALTHY, FAILED, DEGRADED, HELD }

  /** A change worth a message: the event's name as receivers filter on it, and the status that caused it. */
  public record Event(String name, EnvironmentStatus status) {}

  private Transition() {}

  /**
   * The condition a status shows, if it shows one: progressing, suspended and pruned environments say nothing new
   * (their last condition stands).
   */
  public static Optional<Condition> of(EnvironmentStatus status) {
    return switch (status.result()) {
      case FAILED -> Optional.of(Condition.FAILED);
      case HELD, PRUNE_HELD -> Optional.of(Condition.HELD);
      case SYNCED -> status.health().state() == Health.State.READY ? Optional.of(Condition.HEALTHY)
          : status.health().state() == Health.State.DEGRADED ? Optional.of(Condition.DEGRADED) : Optional.empty();
      case PROGRESSING, SUSPENDED, PRUNED -> Optional.empty();
    };
  }

  /**
   * The event from {@code before} (none: never seen by this controller) to {@code now}: one per change of condition,
   * none for a first look at a healthy environment.
   */
  public static Optional<Event> between(Optional<Condition> before, EnvironmentStatus now) {
    Optional<Condition> after = of(now);
    if (after.isEmpty() || after.equals(before)) return Optional.empty();
    return switch (after.get()) {
      case HEALTHY -> before.isPresent() ? Optional.of(new Event("recovered", now)) : Optional.empty();
      case FAILED -> Optional.of(new Event("failed", now));
      case DEGRADED -> Optional.of(new Event("degraded", now));
      case HELD -> Optional.of(new Event("held", now));
    };
  }
}
