package io.langconnect.gitops.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ControlsTest {

  private static final Controls SUSPENDED = new Controls(Optional.of(new Controls.Suspension("ops", "incident",
      Instant.EPOCH)), Optional.empty(), Optional.empty(), false, Map.of(), Optional.empty());
  private static final Controls MOVE_CONFIRMED = new Controls(Optional.empty(), Optional.empty(),
      Optional.of("ns/langconnect"), false, Map.of(), Optional.empty());

  @Test
  void aSuspensionSetOrLiftedAndAConfirmationGivenAreNews() {
    assertThat(SUSPENDED.isNewsSince(Controls.NONE)).isTrue();
    assertThat(Controls.NONE.isNewsSince(SUSPENDED)).as("resume").isTrue();
    assertThat(MOVE_CONFIRMED.isNewsSince(Controls.NONE)).isTrue();
    assertThat(new Controls(Optional.empty(), Optional.empty(), Optional.of("other/langconnect"), false, Map.of(),
        Optional.empty()).isNewsSince(MOVE_CONFIRMED)).as("confirmed for another target").isTrue();
    assertThat(new Controls(Optional.empty(), Optional.empty(), Optional.empty(), false, Map.of("second", "r1"),
        Optional.empty()).isNewsSince(Controls.NONE)).isTrue();
    assertThat(new Controls(Optional.empty(), Optional.empty(), Optional.empty(), true, Map.of(), Optional.empty())
        .isNewsSince(Controls.NONE)).isTrue();
  }

  /** The sync that used a confirmation clears it; that write must not start a second sync (MultiClusterIT's moves). */
  @Test
  void aConfirmationTakenAwayOrTheSameControlsAgainAreNoNews() {
    assertThat(Controls.NONE.isNewsSince(MOVE_CONFIRMED)).isFalse();
    assertThat(MOVE_CONFIRMED.isNewsSince(MOVE_CONFIRMED)).isFalse();
    assertThat(Controls.NONE.isNewsSince(new Controls(Optional.empty(), Optional.of("r7"), Optional.empty(), true,
        Map.of("second", "r1"), Optional.of(new Controls.RecoveredCluster("ns/langconnect", "langconnect-pitr")))))
        .isFalse();
  }
}
