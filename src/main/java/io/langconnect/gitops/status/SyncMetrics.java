package io.langconnect.gitops.status;

import io.langconnect.gitops.apply.SyncResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sync side's meters. Names follow Prometheus conventions; the README lists them. Series whose labels are
 * known in advance (each environment's results and kinds, git outcomes) exist at 0 from the start, so panels
 * show 0 instead of "No data" and {@code rate()}/{@code increase()} see the first event.
 */
public final class SyncMetrics {

  /** Few buckets, spread over what a sync or a webhook round trip takes: cheap to scrape, enough for quantiles. */
  private static final Duration[] SYNC_BUCKETS = seconds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600);
  private static final Duration[] WEBHOOK_BUCKETS = seconds(0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300);
  private static final List<String> APPLY_ACTIONS = List.of("created", "configured");

  private final MeterRegistry registry;
  private final Runnable changed;
  private final Map<String, AtomicLong> lastSuccess = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> ready = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> suspended = new ConcurrentHashMap<>();
  private final Map<String, String> placements = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> retained = new ConcurrentHashMap<>();

  public SyncMetrics(MeterRegistry registry) {
    this(registry, () -> { });
  }

  /** {@code changed} hears of every write (the exposition renders /metrics again). */
  public SyncMetrics(MeterRegistry registry, Runnable changed) {
    this.registry = registry;
    this.changed = changed;
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** An environment named by the current revision, with the kinds it renders: its series start at 0. */
  public void environmentKnown(String environment, Collection<String> kinds) {
    for (EnvironmentStatus.Result result : EnvironmentStatus.Result.values()) syncs(environment, result);
    flag(ready, "langconnect.environment.ready",
        "1 when the environment's latest revision is applied and its Deployments are rolled out and available", environment);
    flag(suspended, "langconnect.environment.suspended", "1 while the environment is suspended", environment);
    syncDuration(environment);
    webhookToSync(environment);
    for (String kind : kinds) {
      APPLY_ACTIONS.forEach(action -> applied(environment, kind, action));
      pruned(environment, kind);
      pruneSkipped(environment, kind);
      driftCorrections(environment, kind);
    }
    changed.run();
  }

  /** The environment is gone (its values file removed and its objects pruned): its series go too. */
  public void forget(String environment) {
    lastSuccess.remove(environment);
    placements.remove(environment);
    ready.remove(environment);
    suspended.remove(environment);
    retained.keySet().removeIf(key -> key.startsWith(environment + "/"));
    for (Meter meter : List.copyOf(registry.getMeters())) {
      if (environment.equals(meter.getId().getTag("environment")) && meter.getId().getName().startsWith("langconnect.")) {
        registry.remove(meter);
      }
    }
    changed.run();
  }

  /** Git's outcomes, at 0 before the first poll. */
  public void gitKnown() {
    List.of("unchanged", "fetched", "failed").forEach(this::gitPollTimer);
    gitFetchTimer(true);
    gitFetchTimer(false);
    changed.run();
  }

  public void syncFinished(String environment, EnvironmentStatus.Result result, Duration duration) {
    syncs(environment, result).increment();
    syncDuration(environment).record(duration);
    if (result == EnvironmentStatus.Result.SYNCED) {
      lastSuccess.computeIfAbsent(environment, env -> {
        AtomicLong at = new AtomicLong();
        Gauge.builder("langconnect.sync.last.success.timestamp.seconds", at, AtomicLong::get)
            .description("When the environment last synced successfully (Unix time)")
            .tag("environment", env).register(registry);
        return at;
      }).set(System.currentTimeMillis() / 1000);
    }
    changed.run();
  }

  /** Whether the environment is Ready (applied and healthy) and whether it is suspended. */
  public void environmentState(String environment, boolean isReady, boolean isSuspended) {
    flag(ready, "langconnect.environment.ready",
        "1 when the environment's latest revision is applied and its Deployments are rolled out and available", environment)
        .set(isReady ? 1 : 0);
    flag(suspended, "langconnect.environment.suspended", "1 while the environment is suspended", environment)
        .set(isSuspended ? 1 : 0);
    changed.run();
  }

  /**
   * Where the environment lives, as an info series ({@code langconnect_environment_info}, always 1) to join the
   * per-environment series with: its namespace and its cluster. A move replaces it.
   */
  public void placement(String environment, String namespace, String cluster) {
    String where = namespace + "@" + cluster;
    if (namespace.isEmpty() || where.equals(placements.get(environment))) return;
    placements.put(environment, where);
    for (Meter meter : List.copyOf(registry.getMeters())) {
      if (meter.getId().getName().equals("langconnect.environment.info")
          && environment.equals(meter.getId().getTag("environment"))) registry.remove(meter);
    }
    Gauge.builder("langconnect.environment.info", () -> 1.0).description("Where the environment lives: its namespace and"
            + " cluster (in-cluster: the controller's own)")
        .tag("environment", environment).tag("namespace", namespace).tag("cluster", cluster).register(registry);
    changed.run();
  }

  /**
   * Whether each bound volume of the environment whose values ask for a reclaim policy is retained (1) or not (0):
   * an alert sees a production volume that one deleted namespace would take with it.
   */
  public void volumes(String environment, List<io.langconnect.gitops.apply.Applier.Volume> volumes) {
    for (var volume : volumes) {
      if (!volume.bound()) continue;
      retained.computeIfAbsent(environment + "/" + volume.claim(), key -> {
        AtomicLong value = new AtomicLong();
        Gauge.builder("langconnect.volume.retained", value, AtomicLong::get).description("1 when the volume bound to the"
                + " claim has reclaim policy Retain (it outlives the claim and the namespace), 0 when it does not")
            .tag("environment", environment).tag("claim", volume.claim()).register(registry);
        return value;
      }).set("Retain".equals(volume.policy()) ? 1 : 0);
    }
    changed.run();
  }

  private AtomicLong flag(Map<String, AtomicLong> flags, String name, String description, String environment) {
    return flags.computeIfAbsent(environment, env -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder(name, value, AtomicLong::get).description(description).tag("environment", env).register(registry);
      return value;
    });
  }

  public void objects(String environment, SyncResult result) {
    for (SyncResult.ObjectResult object : result.objects()) {
      String kind = object.ref().kind();
      switch (object.action()) {
        case CREATED, CONFIGURED -> applied(environment, kind, object.action().name().toLowerCase()).increment();
        case PRUNED -> pruned(environment, kind).increment();
        case SKIPPED -> pruneSkipped(environment, kind).increment();
        default -> { }
      }
      if (object.driftCorrected()) driftCorrections(environment, kind).increment();
    }
    changed.run();
  }

  /** A webhook delivery and what became of it (queued, ignored, ping, unauthorized, malformed, ...). */
  public void webhook(String provider, String outcome) {
    webhookRequests(provider, outcome).increment();
    changed.run();
  }

  public void webhookKnown(String provider, String outcome) {
    webhookRequests(provider, outcome);
    changed.run();
  }

  private Counter webhookRequests(String provider, String outcome) {
    return Counter.builder("langconnect.webhook.requests").description("Webhook deliveries by provider and outcome")
        .tag("provider", provider).tag("outcome", outcome).register(registry);
  }

  /** From a push webhook's arrival to its environment synced. */
  public void webhookToSync(String environment, Duration duration) {
    webhookToSync(environment).record(duration);
    changed.run();
  }

  public void gitFetch(boolean success, Duration duration) {
    gitFetchTimer(success).record(duration);
    changed.run();
  }

  /** One ask of the remote for the branch head (ls-remote), by outcome: unchanged, fetched or failed. */
  public void gitPoll(String outcome, Duration duration) {
    gitPollTimer(outcome).record(duration);
    changed.run();
  }

  private Counter syncs(String environment, EnvironmentStatus.Result result) {
    return Counter.builder("langconnect.sync").description("Environment syncs by result")
        .tag("environment", environment).tag("result", result.name().toLowerCase()).register(registry);
  }

  private Timer syncDuration(String environment) {
    return Timer.builder("langconnect.sync.duration").description("Time to validate, render, apply and prune one environment")
        .tag("environment", environment).serviceLevelObjectives(SYNC_BUCKETS).register(registry);
  }

  private Timer webhookToSync(String environment) {
    return Timer.builder("langconnect.webhook.to.sync.duration").description("From a push webhook received to the environment synced")
        .tag("environment", environment).serviceLevelObjectives(WEBHOOK_BUCKETS).register(registry);
  }

  private Counter applied(String environment, String kind, String action) {
    return Counter.builder("langconnect.objects.applied").description("Objects written with server-side apply")
        .tag("environment", environment).tag("kind", kind).tag("action", action).register(registry);
  }

  private Counter pruned(String environment, String kind) {
    return Counter.builder("langconnect.objects.pruned").description("Objects deleted because the render no longer has them")
        .tag("environment", environment).tag("kind", kind).register(registry);
  }

  private Counter pruneSkipped(String environment, String kind) {
    return Counter.builder("langconnect.prune.skipped").description("Objects an inventory named that were not deleted"
            + " because the live object is not this environment's (it lacks our labels)")
        .tag("environment", environment).tag("kind", kind).register(registry);
  }

  private Counter driftCorrections(String environment, String kind) {
    return Counter.builder("langconnect.drift.corrections").description("Objects re-applied because they were changed in the cluster")
        .tag("environment", environment).tag("kind", kind).register(registry);
  }

  private Timer gitFetchTimer(boolean success) {
    return Timer.builder("langconnect.git.fetch.duration").description("Duration of git fetches of the values repository")
        .tag("result", success ? "success" : "failure").register(registry);
  }

  private Timer gitPollTimer(String outcome) {
    return Timer.builder("langconnect.git.poll.duration").description("Polls of the remote branch head (ls-remote), by outcome")
        .tag("outcome", outcome).register(registry);
  }

  private static Duration[] seconds(double... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) out[i] = Duration.ofNanos((long) (values[i] * 1e9));
    return out;
  }
}
