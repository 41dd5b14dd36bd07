package io.langconnect.gitops.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.langconnect.gitops.apply.Health;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.EnvironmentStatus.Result;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NotificationsTest {

  private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

  private static EnvironmentStatus status(Result result, Health health, String message) {
    return new EnvironmentStatus("prod", "langconnect-prod", "in-cluster", SHA, result, message, Instant.EPOCH,
        Duration.ZERO, Instant.EPOCH, List.of(), 0, health, Optional.empty(), "");
  }

  private static final Health READY = new Health(Health.State.READY, "all rolled out");
  private static final Health DEGRADED = new Health(Health.State.DEGRADED, "StatefulSet langconnect-postgres: CrashLoopBackOff");
  private static final Health PROGRESSING = new Health(Health.State.PROGRESSING, "Deployment langconnect: 0/1 available");

  @Test
  void aCommitIsPendingWhileAppliedSucceedsWhenReadyAndFailsWithItsReason() {
    assertThat(CommitState.of(status(Result.SYNCED, PROGRESSING, "applied")))
        .contains(new CommitState(CommitState.State.PENDING, "applied, waiting for Ready: Deployment langconnect: 0/1 available"));
    assertThat(CommitState.of(status(Result.SYNCED, READY, "applied")))
        .contains(new CommitState(CommitState.State.SUCCESS, "Ready"));
    assertThat(CommitState.of(status(Result.FAILED, Health.UNKNOWN, "values are invalid")))
        .contains(new CommitState(CommitState.State.FAILURE, "failed: values are invalid"));
    assertThat(CommitState.of(status(Result.HELD, READY, "a restore is needed"))).get()
        .extracting(CommitState::state).isEqualTo(CommitState.State.FAILURE);
    assertThat(CommitState.of(status(Result.SYNCED, DEGRADED, "applied"))).get()
        .extracting(CommitState::state).isEqualTo(CommitState.State.FAILURE);
    assertThat(CommitState.of(status(Result.SUSPENDED, READY, "suspended"))).isEmpty();
    assertThat(CommitState.of(status(Result.FAILED, READY, "x".repeat(500))).get().description()).hasSize(140).endsWith("…");
  }

  @Test
  void eachForgeGetsItsOwnAddressHeaderAndStateNames() {
    var github = new ControllerConfig.CommitStatus("github", null, "/t", null);
    ForgeRequest request = ForgeRequest.status(github, "org/values", "tok", SHA, "prod",
        new CommitState(CommitState.State.FAILURE, "failed: x"));
    assertThat(request.url()).isEqualTo("https://api.github.com/repos/org/values/statuses/" + SHA);
    assertThat(request.headers()).containsEntry("Authorization", "Bearer tok");
    assertThat(request.body()).isEqualTo(new JsonObject().put("state", "failure").put("context", "langconnect-gitops/prod")
        .put("description", "failed: x"));

    var gitea = new ControllerConfig.CommitStatus("gitea", "http://127.0.0.1:3000/", "/t", null);
    request = ForgeRequest.status(gitea, "org/values", "tok", SHA, "prod", CommitState.applying());
    assertThat(request.url()).isEqualTo("http://127.0.0.1:3000/api/v1/repos/org/values/statuses/" + SHA);
    assertThat(request.headers()).containsEntry("Authorization", "token tok");
    assertThat(request.body().getString("state")).isEqualTo("pending");

    var gitlab = new ControllerConfig.CommitStatus("gitlab", null, "/t", null);
    request = ForgeRequest.status(gitlab, "group/sub/values", "tok", SHA, "prod",
        new CommitState(CommitState.State.FAILURE, "failed: x"));
    assertThat(request.url()).isEqualTo("https://gitlab.com/api/v4/projects/group%2Fsub%2Fvalues/statuses/" + SHA);
    assertThat(request.headers()).containsEntry("PRIVATE-TOKEN", "tok");
    assertThat(request.body().getString("state")).isEqualTo("failed");
    assertThat(request.body().getString("name")).isEqualTo("langconnect-gitops/prod");
  }

  @Test
  void theRepositoryComesFromTheGitUrlInEveryForm() {
    assertThat(ForgeRequest.repositoryOf("https://github.com/org/values.git")).isEqualTo("org/values");
    assertThat(ForgeRequest.repositoryOf("https://user:secret@gitlab.com/group/sub/values")).isEqualTo("group/sub/values");
    assertThat(ForgeRequest.repositoryOf("ssh://git@gitea.example.com:2222/org/values.git")).isEqualTo("org/values");
    assertThat(ForgeRequest.repositoryOf("git@github.com:org/values.git")).isEqualTo("org/values");
    assertThatThrownBy(() -> ForgeRequest.repositoryOf("https://example.com/values.git"))
        .hasMessage("notifications.commitStatus.repository: git.url names no owner/name (values); expected repository: owner/name");
  }

  @Test
  void onlyChangesOfConditionAreEventsAndAFirstHealthyLookIsNone() {
    EnvironmentStatus healthy = status(Result.SYNCED, READY, "applied");
    EnvironmentStatus failed = status(Result.FAILED, Health.UNKNOWN, "apply refused");
    assertThat(Transition.between(Optional.empty(), healthy)).isEmpty();
    assertThat(Transition.between(Optional.of(Transition.Condition.HEALTHY), healthy)).isEmpty();
    assertThat(Transition.between(Optional.of(Transition.Condition.HEALTHY), failed)).get()
        .extracting(Transition.Event::name).isEqualTo("failed");
    assertThat(Transition.between(Optional.of(Transition.Condition.FAILED), failed)).isEmpty();
    assertThat(Transition.between(Optional.of(Transition.Condition.FAILED), healthy)).get()
        .extracting(Transition.Event::name).isEqualTo("recovered");
    assertThat(Transition.between(Optional.of(Transition.Condition.HEALTHY), status(Result.SYNCED, DEGRADED, "applied")))
        .get().extracting(Transition.Event::name).isEqualTo("degraded");
    assertThat(Transition.between(Optional.empty(), status(Result.HELD, READY, "restore first"))).get()
        .extracting(Transition.Event::name).isEqualTo("held");
    // Waiting says nothing new: the failure stands until the environment is healthy again.
    assertThat(Transition.between(Optional.of(Transition.Condition.FAILED), status(Result.SYNCED, PROGRESSING, "applied")))
        .isEmpty();
  }

  @Test
  void payloadsCarryTheEnvironmentsFieldsAndASignatureOfTheExactBody() {
    var event = new Transition.Event("degraded", status(Result.SYNCED, DEGRADED, "applied"));
    JsonObject generic = WebhookPayload.generic(event, Instant.parse("2026-12-07T00:00:00Z"));
    assertThat(generic.getString("event")).isEqualTo("degraded");
    assertThat(generic.getString("environment")).isEqualTo("prod");
    assertThat(generic.getString("revision")).isEqualTo(SHA);
    assertThat(generic.getString("reason")).isEqualTo("Degraded");
    assertThat(generic.getString("message")).isEqualTo(DEGRADED.message());
    JsonObject slack = WebhookPayload.slack(event);
    assertThat(slack.getString("text")).startsWith("*langconnect-gitops: prod degraded*\n" + DEGRADED.message());
    String body = generic.encode();
    // The receiver recomputes it over the bytes it got, as Flux's generic-hmac receivers do.
    assertThat(WebhookPayload.signature("s3cret".getBytes(StandardCharsets.UTF_8), body))
        .isEqualTo("sha256=" + io.langconnect.gitops.webhook.Signatures.hmacSha256Hex("s3cret".getBytes(StandardCharsets.UTF_8),
            body.getBytes(StandardCharsets.UTF_8)));
  }
}
