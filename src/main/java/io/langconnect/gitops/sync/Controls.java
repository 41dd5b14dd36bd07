package io.langconnect.gitops.sync;

import java.time.Instant;
import java.util.Optional;

/**
 * What operators told the controller about one environment, kept in the cluster so that it survives a restart and
 * a change of leader: whether it is suspended (by whom, why, since when), and which held changes they confirmed.
 */
public record Controls(Optional<Suspension> suspension, boolean pruneConfirmed, Optional<String> newDatabaseConfirmedFor) {

  public static final Controls NONE = new Controls(Optional.empty(), false, Optional.empty());

  /** {@code flux suspend}'s counterpart: no apply, prune or drift correction until resumed. */
  public record Suspension(String by, String reason, Instant since) {
    public String describe() {
      return "suspended by " + by + " at " + since + (reason.isEmpty() ? "" : ": " + reason);
    }
  }

  public boolean suspended() {
    return suspension.isPresent();
  }
}
