package io.langconnect.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What one line of `get` says for each state an environment can be in. */
class GetCommandTest {

  private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

  private static JsonObject env(String result, boolean ready, String health, String healthMessage, String message) {
    return new JsonObject().put("name", "prod").put("cluster", "eu-prod").put("result", result).put("ready", ready)
        .put("revision", "4be1c2a8d0f3aa0011").put("lastSyncTime", "2026-12-01T11:59:20Z").put("message", message)
        .put("health", new JsonObject().put("status", health).put("message", healthMessage));
  }

  @Test
  void readySaysHowWhatRunsIsDoing() {
    assertThat(GetCommand.line(env("Synced", true, "Ready", "2 workload(s) rolled out and available", "in sync"), NOW))
        .isEqualTo(String.format("%-16s %-12s %-6s %-10s %-13s %-6s %s%n", "prod", "eu-prod", "True", "False", "4be1c2a8d0f3", "40s",
            "2 workload(s) rolled out and available"));
  }

  @Test
  void syncedButNotReadySaysTheHealthAndItsReason() {
    assertThat(GetCommand.line(env("Synced", false, "Degraded", "Deployment x: pod y container z is CrashLoopBackOff",
        "in sync"), NOW)).contains(" False  False ").endsWith("Degraded: Deployment x: pod y container z is CrashLoopBackOff\n");
  }

  @Test
  void aSyncThatDidNotGoThroughSaysWhy() {
    JsonObject suspended = env("Suspended", false, "Ready", "fine", "suspended by alice at 2026-12-01T11:00:00Z: restore")
        .put("suspended", new JsonObject().put("by", "alice"));
    assertThat(GetCommand.line(suspended, NOW)).contains(" False  True ").endsWith("suspended by alice at"
        + " 2026-12-01T11:00:00Z: restore\n");
  }

  @Test
  void agesAsKubectlPrintsThem() {
    assertThat(GetCommand.age("2026-12-01T11:59:15Z", NOW)).isEqualTo("45s");
    assertThat(GetCommand.age("2026-12-01T11:48:00Z", NOW)).isEqualTo("12m");
    assertThat(GetCommand.age("2026-12-01T09:00:00Z", NOW)).isEqualTo("3h");
    assertThat(GetCommand.age("2026-11-28T12:00:00Z", NOW)).isEqualTo("3d");
    assertThat(GetCommand.age(null, NOW)).isEqualTo("-");
  }
}
