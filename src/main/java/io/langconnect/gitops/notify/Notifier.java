package io.langconnect.gitops.notify;

import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.net.Connections;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.SyncRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the forge and the team's webhooks what the syncs did: a commit status per environment for each commit
 * synced, and a message on each transition. Sits between the sync and its record, so it sees exactly what the status
 * API shows. Each delivery runs after the one before it for the same environment and receiver (a forge must not see
 * "applying" after "Ready"), is retried with backoff, and never holds or fails a sync: a refusal is logged and counted.
 */
public final class Notifier implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
  /** Waits before the 2nd..5th attempt; a forge that is down for longer misses that status (the next one comes). */
  static final List<Duration> RETRY_DELAYS = List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
      Duration.ofSeconds(8));
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final ControllerConfig.Notifications config;
  private final Optional<String> repository;
  private final MeterRegistry registry;
  private final Runnable changed;
  private final WebClient client;
  /** The last commit status sent per environment: the same one is not sent twice, nor "applying" twice for a commit. */
  private final Map<String, Sent> lastStatus = new ConcurrentHashMap<>();
  private final Map<String, Transition.Condition> conditions = new ConcurrentHashMap<>();
  private final Map<String, Future<Void>> queues = new ConcurrentHashMap<>();

  /** {@code gitUrl} names the repository the statuses go to unless notifications.commitStatus.repository does. */
  public Notifier(Vertx vertx, ControllerConfig.Notifications config, String gitUrl, MeterRegistry registry,
                  Runnable changed) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
    this.changed = changed;
    this.repository = Optional.ofNullable(config.commitStatus())
        .map(forge -> forge.repository() != null && !forge.repository().isBlank() ? forge.repository()
            : ForgeRequest.repositoryOf(gitUrl));
    this.client = Connections.webClient(vertx, new WebClientOptions().setConnectTimeout(5_000).setUserAgent("langconnect-gitops"));
    Optional.ofNullable(config.commitStatus()).ifPresent(forge -> outcomes("commit_status", forge.provider()));
    config.webhooks().forEach(webhook -> outcomes("webhook", webhook.name()));
  }

  private record Sent(String revision, CommitState state) {}

  private boolean enabled() {
    return config.commitStatus() != null || !config.webhooks().isEmpty();
  }

  /** {@code record}, with every start, outcome and change of health told to the receivers as well. */
  public SyncRecord around(SyncRecord record) {
    if (!enabled()) return record;
    return new SyncRecord.Forwarding(record) {
      @Override
      public void started(String environment, String revision) {
        super.started(environment, revision);
        applying(environment, revision);
      }

      @Override
      public void finished(EnvironmentStatus status, Duration took) {
        super.finished(status, took);
        tell(status);
      }

      @Override
      public void healthChanged(EnvironmentStatus status) {
        super.healthChanged(status);
        tell(status);
      }

      @Override
      public void removed(String environment) {
        super.removed(environment);
        lastStatus.remove(environment);
        conditions.remove(environment);
      }
    };
  }

  /** A sync of a commit this environment has not been told about yet starts: its status says pending. */
  private void applying(String environment, String revision) {
    if (config.commitStatus() == null || !CommitState.isCommit(revision)) return;
    if (Optional.ofNullable(lastStatus.get(environment)).map(Sent::revision).filter(revision::equals).isPresent()) return;
    commitStatus(environment, revision, CommitState.applying());
  }

  private void tell(EnvironmentStatus status) {
    if (config.commitStatus() != null && CommitState.isCommit(status.revision())) {
      CommitState.of(status).ifPresent(state -> commitStatus(status.name(), status.revision(), state));
    }
    Optional<Transition.Condition> before = Optional.ofNullable(conditions.get(status.name()));
    Transition.of(status).ifPresent(now -> conditions.put(status.name(), now));
    Transition.between(before, status).ifPresent(this::webhooks);
  }

  private void commitStatus(String environment, String revision, CommitState state) {
    Sent sent = new Sent(revision, state);
    if (sent.equals(lastStatus.put(environment, sent))) return;
    ControllerConfig.CommitStatus forge = config.commitStatus();
    enqueue("forge/" + environment, () -> secret(forge.tokenFile(), "commit_status", forge.provider(), environment,
        "notifications.commitStatus.tokenFile").map(token -> {
          ForgeRequest request = ForgeRequest.status(forge, repository.orElseThrow(), token, revision, environment, state);
          return deliver("commit_status", forge.provider(), environment, request.url(), request.headers(),
              request.body().encode());
        }).orElseGet(Future::succeededFuture));
  }

  private void webhooks(Transition.Event event) {
    for (ControllerConfig.NotificationWebhook webhook : config.webhooks()) {
      if (!webhook.events().contains(event.name())) continue;
      JsonObject body = webhook.format().equals("slack") ? WebhookPayload.slack(event)
          : WebhookPayload.generic(event, Instant.now());
      String environment = event.status().name();
      enqueue("webhook/" + webhook.name() + "/" + environment, () -> {
        String encoded = body.encode();
        if (webhook.secretFile() == null || webhook.secretFile().isBlank()) {
          return deliver("webhook", webhook.name(), environment, webhook.url(), Map.of(), encoded);
        }
        return secret(webhook.secretFile(), "webhook", webhook.name(), environment, "notifications.webhooks."
            + webhook.name() + ".secretFile").map(secret -> deliver("webhook", webhook.name(), environment, webhook.url(),
                Map.of(WebhookPayload.SIGNATURE_HEADER, WebhookPayload.signature(secret.getBytes(StandardCharsets.UTF_8),
                    encoded)), encoded)).orElseGet(Future::succeededFuture);
      });
    }
  }

  /**
   * A token or secret, read from its file at each delivery (a rotated one needs no restart); when it cannot be read,
   * the delivery is dropped, logged and counted as failed.
   */
  private Optional<String> secret(String file, String kind, String target, String environment, String key) {
    try {
      return Optional.of(Files.readString(Path.of(file)).strip());
    } catch (IOException e) {
      LOG.warn("{}: {} {} not told: cannot read {} {}: {}", environment, kind.replace('_', ' '), target, key, file,
          e.getMessage());
      count(kind, target, "failed");
      return Optional.empty();
    }
  }

  /** Runs {@code delivery} once every delivery queued before it under {@code key} has ended, however it ended. */
  private void enqueue(String key, Supplier<Future<Void>> delivery) {
    queues.compute(key, (k, previous) -> (previous == null ? Future.<Void>succeededFuture() : previous)
        .transform(done -> delivery.get()));
  }

  private Future<Void> deliver(String kind, String target, String environment, String url, Map<String, String> headers,
                               String body) {
    Promise<Void> done = Promise.promise();
    attempt(kind, target, environment, url, headers, body, 0, done);
    return done.future();
  }

  private void attempt(String kind, String target, String environment, String url, Map<String, String> headers, String body,
                       int attempt, Promise<Void> done) {
    var request = client.postAbs(url).timeout(REQUEST_TIMEOUT.toMillis()).putHeader("Content-Type", "application/json");
    headers.forEach(request::putHeader);
    request.sendBuffer(Buffer.buffer(body)).onComplete(result -> {
      Optional<HttpResponse<Buffer>> response = result.succeeded() ? Optional.of(result.result()) : Optional.empty();
      int code = response.map(HttpResponse::statusCode).orElse(0);
      if (code >= 200 && code < 300) {
        count(kind, target, "sent");
        done.complete();
        return;
      }
      String why = response.map(r -> "HTTP " + code + " " + abbreviated(r.bodyAsString()))
          .orElseGet(() -> result.cause().getMessage());
      boolean retryable = code == 0 || code == 408 || code == 429 || code >= 500;
      if (retryable && attempt < RETRY_DELAYS.size()) {
        vertx.setTimer(RETRY_DELAYS.get(attempt).toMillis(),
            id -> attempt(kind, target, environment, url, headers, body, attempt + 1, done));
        return;
      }
      LOG.warn("{}: {} {} refused the notification ({}{})", environment, kind.replace('_', ' '), target, why,
          retryable ? ", after " + (attempt + 1) + " attempts" : "");
      count(kind, target, retryable ? "failed" : "refused");
      done.complete();
    });
  }

  private static String abbreviated(String text) {
    if (text == null) return "";
    String line = text.replaceAll("\\s+", " ").strip();
    return line.length() <= 200 ? line : line.substring(0, 200) + "…";
  }

  private void outcomes(String kind, String target) {
    for (String outcome : List.of("sent", "refused", "failed")) counter(kind, target, outcome);
  }

  private void count(String kind, String target, String outcome) {
    counter(kind, target, outcome).increment();
    changed.run();
  }

  private Counter counter(String kind, String target, String outcome) {
    return Counter.builder("langconnect.notifications")
        .description("Notifications by kind (commit_status, webhook), receiver and outcome (sent, refused: a 4xx answer,"
            + " failed: no answer after the retries)")
        .tags("kind", kind, "target", target, "outcome", outcome).register(registry);
  }

  @Override
  public void close() {
    client.close();
  }
}
