package io.langconnect.gitops.observe;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.apply.WorkloadCache;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.net.Connections;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.values.NamespacePolicy;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schedules the collectors and keeps what they found in meters, so a scrape of /metrics never waits on a
 * database: {@link DatabaseCollector} per database (non-blocking, vertx-pg-client), the LangConnect probe, and
 * {@link WorkloadCollector} from the watch-fed {@link WorkloadCache}. What it observes comes from the cluster, not
 * from git. Only the leader observes: each database is queried once per cycle per shard, not once per replica, and
 * a standby's /metrics holds no observed series at all (none that could be stale or disagree with the leader's); a
 * replica that takes the Lease observes at once, one that loses it forgets what it observed. On another cluster than the controller's own, what runs there is observed
 * from that cluster's cache (replicas, restarts, backups); its databases are probed only where the config's
 * {@code databases:} gives an address the controller reaches (a remote cluster's Service IPs seldom are).
 */
public final class ObserverVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ObserverVerticle.class);

  /** How often a database that turns the collector's credentials down has its Secret read again. */
  private static final Duration REREAD_CREDENTIALS = Duration.ofMinutes(1);

  /**
   * A cluster to observe besides the controller's own: its name, a client (for Secrets) and its watch cache, started
   * by whoever connected the cluster.
   */
  public record ObservedCluster(String name, KubernetesClient client, WorkloadCache cache) {}

  /** One observed cluster's discovery and workload collector. */
  private record Observer(boolean isHome, TargetDiscovery discovery, WorkloadCollector workloads) {}

  private final ControllerConfig.Observe config;
  private final Map<String, ControllerConfig.DatabaseEndpoint> overrides;
  private final WorkloadCache cache;
  private final Supplier<List<ObservedCluster>> others;
  private final ControllerConfig.Shard shard;
  private final Map<String, Observer> observers = new LinkedHashMap<>();
  /** Every target seen in the last cycle, probed or not: one that goes is forgotten in every table. */
  private final Map<String, DatabaseTarget> observed = new HashMap<>();
  private final Map<String, Long> credentialsRereadAt = new HashMap<>();
  private final ObserverMetrics metrics;
  private final ServerVersions versions;
  private final Map<String, DatabaseCollector> collectors = new HashMap<>();
  private final TargetDiscovery.Placements placements;
  private final java.util.function.BooleanSupplier leading;
  private WebClient web;
  private boolean collecting;

  /** Where the controller says whether this replica leads now ({@code true} or {@code false}). */
  public static final String LEADERSHIP = "observer.leadership";

  /**
   * {@code versions} hears the version each database reports, for the sync's major-version guard; {@code cache} is
   * started here if it was not yet, and closed by its owner.
   */
  public ObserverVerticle(KubernetesClient client, WorkloadCache cache, ControllerConfig config,
                          MetricsExposition exposition, ServerVersions versions) {
    this(client, cache, List::of, config, exposition, versions,
        new InventoryStore(client, config.namespacePolicy(), Retry.apiCalls(3)), () -> true);
  }

  /**
   * {@code others}: the other clusters connected so far, asked again every cycle. A shard observes its own clusters
   * only (the controller's own when {@value NamespacePolicy#IN_CLUSTER} is one), so each series comes from one shard.
   */
  public ObserverVerticle(KubernetesClient client, WorkloadCache cache, Supplier<List<ObservedCluster>> others,
                          ControllerConfig config, MetricsExposition exposition, ServerVersions versions,
                          InventoryStore inventories, java.util.function.BooleanSupplier leading) {
    this.leading = leading;
    this.versions = versions;
    this.config = config.observe();
    this.overrides = config.databases();
    this.cache = cache;
    this.others = others;
    this.metrics = new ObserverMetrics(exposition);
    this.shard = config.shard();
    this.placements = environment -> {
      try {
        return inventories.read(environment);
      } catch (InventoryStore.InvalidInventoryException e) {
        return Optional.empty();
      }
    };
    if (shard.includes(NamespacePolicy.IN_CLUSTER)) {
      observers.put("", new Observer(true, new TargetDiscovery(client, NamespacePolicy.IN_CLUSTER, cache, overrides,
          placements),
          new WorkloadCollector(cache, metrics)));
    }
  }

  @Override
  public Future<?> start() {
    web = Connections.webClient(vertx, new WebClientOptions().setConnectTimeout(5_000).setIdleTimeout(10));
    // The first cycle (with the exact counts) once the cache has listed; until then there is nothing to observe.
    Future.fromCompletionStage(cache.start(), vertx.getOrCreateContext()).onComplete(listed -> cycle(true));
    vertx.setPeriodic(config.interval().toMillis(), id -> cycle(false));
    vertx.setPeriodic(config.countInterval().toMillis(), id -> collectors.values().forEach(DatabaseCollector::countCollections));
    vertx.eventBus().<Boolean>localConsumer(LEADERSHIP, message -> {
      if (message.body()) cycle(true);
      else forgetAll();
    });
    return Future.succeededFuture();
  }

  /** Leadership lost: every observed series goes, and no database is queried until it is taken again. */
  private void forgetAll() {
    collectors.values().forEach(DatabaseCollector::close);
    collectors.clear();
    credentialsRereadAt.clear();
    forgetGone(Set.of());
  }

  /** One collection cycle; a cycle still running when the next is due is not doubled. */
  private void cycle(boolean withCounts) {
    if (collecting || !leading.getAsBoolean()) return;
    collecting = true;
    for (ObservedCluster other : others.get()) {
      if (!shard.includes(other.name())) continue;
      observers.computeIfAbsent(other.name(), name -> {
        LOG.info("observing what runs on cluster {}", name);
        return new Observer(false, new TargetDiscovery(other.client(), name, other.cache(), overrides, placements),
            new WorkloadCollector(other.cache(), metrics));
      });
    }
    vertx.executeBlocking(this::discover, false)
        .compose(found -> {
          forgetGone(found.all().keySet());
          Set<String> added = refresh(found.probed());
          List<Future<?>> work = new ArrayList<>();
          Set<String> home = found.all().entrySet().stream().filter(e -> e.getValue().isHome())
              .map(e -> e.getKey().key()).collect(Collectors.toSet());
          for (DatabaseCollector collector : collectors.values()) {
            DatabaseTarget target = collector.target();
            boolean here = home.contains(target.key());
            if (answers(target, Labels.POSTGRES, here)) {
              work.add(collector.collect());
              // A database seen for the first time is counted at once, not at the next slow tick.
              if (withCounts || added.contains(target.key())) work.add(collector.countCollections());
            } else {
              collector.down();
            }
            if (answers(target, Labels.LANGCONNECT, here)) work.add(probeLangConnect(target));
            else langconnectUp(target, false);
          }
          found.all().forEach((target, observer) -> observer.workloads().collect(target));
          // A call that never answers must not freeze every later cycle (and with them every metric).
          return Future.join(work).timeout(cycleLimit().toMillis(), TimeUnit.MILLISECONDS);
        })
        .onComplete(done -> {
          if (leading.getAsBoolean()) rereadRefusedCredentials();
          else forgetAll(); // lost the Lease during this cycle: what it found is not reported
        })
        .onFailure(e -> LOG.warn("metrics cycle failed: {}", e.getMessage()))
        .onComplete(done -> collecting = false);
  }

  private record Found(Map<DatabaseTarget, Observer> all, List<DatabaseTarget> probed) {}

  /** Every cluster's targets; those of another cluster are probed only with an address from the config. */
  private Found discover() {
    Map<DatabaseTarget, Observer> all = new LinkedHashMap<>();
    List<DatabaseTarget> probed = new ArrayList<>();
    for (Observer observer : observers.values()) {
      for (DatabaseTarget target : observer.discovery().discover()) {
        all.put(target, observer);
        ControllerConfig.DatabaseEndpoint override = overrides.get(target.environment());
        if (observer.isHome() || (override != null && override.host() != null)) probed.add(target);
      }
    }
    return new Found(all, probed);
  }

  /** A target no cluster has any more (pruned, moved, or not listed yet) loses its series. */
  private void forgetGone(Set<DatabaseTarget> found) {
    Map<String, DatabaseTarget> now = found.stream().collect(Collectors.toMap(DatabaseTarget::key, t -> t, (a, b) -> a));
    observed.forEach((key, gone) -> {
      if (!now.containsKey(key)) {
        metrics.forget(gone);
        versions.forget(gone);
      }
    });
    observed.clear();
    observed.putAll(now);
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
      observers.values().forEach(observer -> observer.discovery().refresh(target));
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
        if (next == null) credentialsRereadAt.remove(key);
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
    return web.getAbs(target.langconnectUrl()).timeout(5_000).send()
        .map(response -> response.statusCode() == 200)
        .otherwise(false)
        .map(up -> {
          langconnectUp(target, up);
          return null;
        });
  }

  private void langconnectUp(DatabaseTarget target, boolean up) {
    Tags tags = Tags.of("environment", target.environment(), "namespace", target.namespace());
    metrics.langconnectUp.set(target.key(), List.of(new GaugeTable.Row(tags, up ? 1 : 0)));
  }

  /**
   * Whether a probe of {@code component} can be answered: always, unless it is reached through one of our releases'
   * Services on the controller's own cluster (no address from {@code databases.<env>}) and its watch sees none of
   * its pods Ready. Then its Service has no endpoint, and the probe would only fail, at the cost of a connection.
   */
  private boolean answers(DatabaseTarget target, String component, boolean onOwnCluster) {
    ControllerConfig.DatabaseEndpoint override = overrides.get(target.environment());
    boolean addressed = override != null && (component.equals(Labels.POSTGRES) ? override.host() != null
        : override.langconnectUrl() != null);
    boolean ours = component.equals(Labels.LANGCONNECT) || cache.bundledDatabase(target.namespace(), target.release());
    return addressed || !onOwnCluster || !ours || !cache.synced()
        || cache.readyPod(target.namespace(), target.release(), component);
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
