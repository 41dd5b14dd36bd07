package io.langconnect.gitops.observe;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.apply.WorkloadCache;
import io.langconnect.gitops.config.ControllerConfig;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schedules the collectors and keeps what they found in meters, so a scrape of /metrics never waits on a
 * database: {@link DatabaseCollector} per database (non-blocking, vertx-pg-client), the LangConnect probe, and
 * {@link WorkloadCollector} from the watch-fed {@link WorkloadCache}. Runs on every replica: what it observes
 * comes from the cluster, not from git.
 */
public final class ObserverVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ObserverVerticle.class);

  /** How often a database that turns the collector's credentials down has its Secret read again. */
  private static final Duration REREAD_CREDENTIALS = Duration.ofMinutes(1);

  private final ControllerConfig.Observe config;
  private final WorkloadCache cache;
  private final TargetDiscovery discovery;
  private final WorkloadCollector workloads;
  private final Map<String, Long> credentialsRereadAt = new HashMap<>();
  private final ObserverMetrics metrics;
  private final ServerVersions versions;
  private final Map<String, DatabaseCollector> collectors = new HashMap<>();
  private WebClient web;
  private boolean collecting;

  /**
   * {@code versions} hears the version each database reports, for the sync's major-version guard; {@code cache} is
   * started here if it was not yet, and closed by its owner.
   */
  public ObserverVerticle(KubernetesClient client, WorkloadCache cache, ControllerConfig config,
                          MetricsExposition exposition, ServerVersions versions) {
    this.versions = versions;
    this.config = config.observe();
    this.cache = cache;
    this.discovery = new TargetDiscovery(client, cache, config.databases());
    this.metrics = new ObserverMetrics(exposition);
    this.workloads = new WorkloadCollector(cache, metrics);
  }

  @Override
  public Future<?> start() {
    web = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5_000).setIdleTimeout(10));
    // The first cycle (with the exact counts) once the cache has listed; until then there is nothing to observe.
    Future.fromCompletionStage(cache.start(), vertx.getOrCreateContext()).onComplete(listed -> cycle(true));
    vertx.setPeriodic(config.interval().toMillis(), id -> cycle(false));
    vertx.setPeriodic(config.countInterval().toMillis(), id -> collectors.values().forEach(DatabaseCollector::countCollections));
    return Future.succeededFuture();
  }

  /** One collection cycle; a cycle still running when the next is due is not doubled. */
  private void cycle(boolean withCounts) {
    if (collecting) return;
    collecting = true;
    vertx.executeBlocking(discovery::discover, false)
        .compose(targets -> {
          Set<String> added = refresh(targets);
          List<Future<?>> work = new ArrayList<>();
          for (DatabaseCollector collector : collectors.values()) {
            work.add(collector.collect());
            // A database seen for the first time is counted at once, not at the next slow tick.
            if (withCounts || added.contains(collector.target().key())) work.add(collector.countCollections());
            work.add(probeLangConnect(collector.target()));
          }
          targets.forEach(workloads::collect);
          // A call that never answers must not freeze every later cycle (and with them every metric).
          return Future.join(work).timeout(cycleLimit().toMillis(), TimeUnit.MILLISECONDS);
        })
        .onComplete(done -> rereadRefusedCredentials())
        .onFailure(e -> LOG.warn("metrics cycle failed: {}", e.getMessage()))
        .onComplete(done -> collecting = false);
  }

  /**
   * A database that turns the password down may have had it rotated in its Secret (the Deployment need not change):
   * read it again, at most once a minute. A move shows in the Deployment or Services, which the cache sees.
   */
  private void rereadRefusedCredentials() {
    long now = System.currentTimeMillis();
    for (DatabaseCollector collector : collectors.values()) {
      DatabaseTarget target = collector.target();
      if (!collector.credentialsRefused()
          || now - credentialsRereadAt.getOrDefault(target.key(), 0L) < REREAD_CREDENTIALS.toMillis()) continue;
      credentialsRereadAt.put(target.key(), now);
      discovery.refresh(target);
    }
  }

  private Duration cycleLimit() {
    Duration three = config.queryTimeout().multipliedBy(3);
    return three.compareTo(config.interval()) > 0 ? three : config.interval();
  }

  /** Keeps one collector per target; returns the keys of the targets whose collector is new. */
  private Set<String> refresh(List<DatabaseTarget> targets) {
    Map<String, DatabaseTarget> wanted = targets.stream().collect(Collectors.toMap(DatabaseTarget::key, t -> t, (a, b) -> a));
    for (String key : Set.copyOf(collectors.keySet())) {
      DatabaseTarget current = collectors.get(key).target();
      DatabaseTarget next = wanted.get(key);
      // Any change (address, credentials, URL) rebuilds the collector and its pool.
      if (next == null || !next.equals(current)) {
        collectors.remove(key).close();
        if (next == null) {
          credentialsRereadAt.remove(key);
          metrics.forget(current);
          versions.forget(current);
        }
      }
    }
    Set<String> added = new java.util.HashSet<>();
    wanted.forEach((key, target) -> collectors.computeIfAbsent(key, k -> {
      added.add(key);
      LOG.info("observing {}", target);
      return new DatabaseCollector(vertx, target, metrics, versions, config.queryTimeout(), config.maxCollections());
    }));
    return added;
  }

  private Future<Void> probeLangConnect(DatabaseTarget target) {
    Tags tags = Tags.of("environment", target.environment(), "namespace", target.namespace());
    return web.getAbs(target.langconnectUrl()).timeout(5_000).send()
        .map(response -> response.statusCode() == 200)
        .otherwise(false)
        .map(up -> {
          metrics.langconnectUp.set(target.key(), List.of(new GaugeTable.Row(tags, up ? 1 : 0)));
          return null;
        });
  }

  @Override
  public Future<?> stop() {
    List<Future<Void>> closing = collectors.values().stream().map(DatabaseCollector::close).toList();
    collectors.clear();
    if (web != null) web.close();
    metrics.close();
    return Future.join(closing);
  }
}
