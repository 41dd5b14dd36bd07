package io.langconnect.gitops.soak;

import static org.assertj.core.api.Assertions.assertThat;

import io.langconnect.gitops.testenv.LocalControlPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The soak on the test node: three minutes and three environments in the suite, seed 1; scripts/soak.sh runs it
 * longer ({@code -Dsoak.minutes}, {@code -Dsoak.environments}, {@code -Dsoak.seed} to replay a run, {@code -Dsoak.faults}
 * to inject only the kinds named, comma-separated).
 */
@ExtendWith(LocalControlPlane.class)
class SoakIT {

  @Test
  void mixedFaultsLoseNothingAndEveryEnvironmentComesBack(LocalControlPlane plane, @TempDir Path tmp) throws Exception {
    // The suite replays one seed (its faults in the same order each time); scripts/soak.sh draws a new one per run.
    long seed = Long.getLong("soak.seed", 1);
    List<String> faults = Arrays.stream(System.getProperty("soak.faults", "").split(",")).map(String::strip)
        .filter(kind -> !kind.isEmpty()).toList(); // none named: every kind
    Soak.Options options = new Soak.Options(Duration.ofMinutes(Long.getLong("soak.minutes", 3)),
        Integer.getInteger("soak.environments", 3), seed, faults);

    assertThat(new Soak(plane, options, tmp).run()).as("invariants broken (seed " + seed + ")").isEmpty();
  }
}
