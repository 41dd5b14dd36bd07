package io.langconnect.gitops.sync;

import io.langconnect.gitops.apply.SyncResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The sync side's meters. Names follow Prometheus conventions; the README lists them. */
public final class SyncMetrics {

  private final MeterRegistry registry;
  private final Map<String, AtomicLong> lastSuccess = new ConcurrentHashMap<>();

  public SyncMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void syncFinished(String environment, EnvironmentStatus.Result result, Duration duration) {
    Counter.builder("langconnect.sync").description("Environment syncs by result")
        .tag("environment", environment).tag("result", result.name().toLowerCase())
        .register(registry).increment();
    Timer.builder("langconnect.sync.duration").description("Time to validate, render, apply and prune one environment")
        .tag("environment", environment)
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(10)).maximumExpectedValue(Duration.ofMinutes(10))
        .register(registry).record(duration);
    if (result == EnvironmentStatus.Result.SYNCED) {
      lastSuccess.computeIfAbsent(environment, env -> registry.gauge("langconnect.sync.last.success.timestamp.seconds",
          io.micrometer.core.instrument.Tags.of("environment", env), new AtomicLong()))
          .set(System.currentTimeMillis() / 1000);
    }
  }

  public void objects(String environment, SyncResult result) {
    for (SyncResult.ObjectResult object : result.objects()) {
      String kind = object.ref().kind();
      switch (object.action()) {
        case CREATED, CONFIGURED -> Counter.builder("langconnect.objects.applied")
            .description("Objects written with server-side apply")
            .tag("environment", environment).tag("kind", kind).tag("action", object.action().name().toLowerCase())
            .register(registry).increment();
        case PRUNED -> Counter.builder("langconnect.objects.pruned").description("Objects deleted because the render no longer has them")
            .tag("environment", environment).tag("kind", kind).register(registry).increment();
        default -> { }
      }
      if (object.driftCorrected()) {
        Counter.builder("langconnect.drift.corrections").description("Objects re-applied because they were changed in the cluster")
            .tag("environment", environment).tag("kind", kind).register(registry).increment();
      }
    }
  }

  /** A webhook delivery and what became of it (queued, ignored, ping, unauthorized, malformed, ...). */
  public void webhook(String provider, String outcome) {
    Counter.builder("langconnect.webhook.requests").description("Webhook deliveries by provider and outcome")
        .tag("provider", provider).tag("outcome", outcome).register(registry).increment();
  }

  /** From a push webhook's arrival to its environment synced. */
  public void webhookToSync(String environment, Duration duration) {
    Timer.builder("langconnect.webhook.to.sync.duration").description("From a push webhook received to the environment synced")
        .tag("environment", environment).publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(10)).maximumExpectedValue(Duration.ofMinutes(5))
        .register(registry).record(duration);
  }

  public void gitFetch(boolean success, Duration duration) {
    Timer.builder("langconnect.git.fetch.duration").description("Duration of git fetches of the values repository")
        .tag("result", success ? "success" : "failure").register(registry).record(duration);
  }

  /** One ask of the remote for the branch head (ls-remote), by outcome: unchanged, fetched or failed. */
  public void gitPoll(String outcome, Duration duration) {
    Timer.builder("langconnect.git.poll.duration").description("Polls of the remote branch head (ls-remote), by outcome")
        .tag("outcome", outcome).register(registry).record(duration);
  }
}
