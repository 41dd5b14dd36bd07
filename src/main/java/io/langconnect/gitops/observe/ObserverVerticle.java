package io.langconnect.gitops.observe;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Instant;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.render.Labels;
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
 * Collects database, LangConnect and Deployment facts on a schedule and keeps them in meters, so a scrape of
 * /metrics never waits on a database. Runs on every replica: what it observes comes from the cluster, not
 * from git. Database queries are non-blocking (vertx-pg-client); the API calls run on worker threads.
 */
public final class ObserverVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ObserverVerticle.class);

  private final KubernetesClient client;
  private final ControllerConfig.Observe config;
  private final TargetDiscovery discovery;
  private final ObserverMetrics metrics;
  private final ServerVersions versions;
  private final Map<String, DatabaseCollector> collectors = new HashMap<>();
  private WebClient web;
  private boolean collecting;

  /** {@code versions} hears the version each database reports, for the sync's major-version guard. */
  public ObserverVerticle(KubernetesClient client, ControllerConfig config, MetricsExposition exposition,
                          ServerVersions versions) {
    this.versions = versions;
    this.client = client;
    this.config = config.observe();
    this.discovery = new TargetDiscovery(client, config.databases());
    this.metrics = new ObserverMetrics(exposition);
  }

  @Override
  public Future<?> start() {
    web = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5_000).setIdleTimeout(10));
    cycle(true);
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
            if (withCounts || added.contains(collector.target().environment())) work.add(collector.countCollections());
            work.add(probeLangConnect(collector.target()));
          }
          work.add(vertx.executeBlocking(() -> deployments(targets), false));
          // A call that never answers must not freeze every later cycle (and with them every metric).
          return Future.join(work).timeout(cycleLimit().toMillis(), TimeUnit.MILLISECONDS);
        })
        .onFailure(e -> LOG.warn("metrics cycle failed: {}", e.getMessage()))
        .onComplete(done -> collecting = false);
  }

  private Duration cycleLimit() {
    Duration three = config.queryTimeout().multipliedBy(3);
    return three.compareTo(config.interval()) > 0 ? three : config.interval();
  }

  /** Keeps one collector per target; returns the environments whose collector is new. */
  private Set<String> refresh(List<DatabaseTarget> targets) {
    Map<String, DatabaseTarget> wanted = targets.stream().collect(Collectors.toMap(DatabaseTarget::environment, t -> t, (a, b) -> a));
    for (String env : Set.copyOf(collectors.keySet())) {
      DatabaseTarget current = collectors.get(env).target();
      DatabaseTarget next = wanted.get(env);
      // Any change (address, credentials, URL) rebuilds the collector and its pool.
      if (next == null || !next.equals(current)) {
        collectors.remove(env).close();
        if (next == null) {
          metrics.forget(env);
          versions.forget(env);
        }
      }
    }
    Set<String> added = new java.util.HashSet<>();
    wanted.forEach((env, target) -> collectors.computeIfAbsent(env, e -> {
      added.add(env);
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
          metrics.langconnectUp.set(target.environment(), List.of(new GaugeTable.Row(tags, up ? 1 : 0)));
          return null;
        });
  }

  /** Replicas by state and container restarts, per component, from the API. */
  private Void deployments(List<DatabaseTarget> targets) {
    for (DatabaseTarget target : targets) {
      Tags tags = Tags.of("environment", target.environment(), "namespace", target.namespace());
      List<GaugeTable.Row> replicas = new ArrayList<>();
      List<GaugeTable.Row> restarts = new ArrayList<>();
      try {
        for (Deployment d : client.apps().deployments().inNamespace(target.namespace())
            .withLabel(Labels.MANAGED_BY, Labels.MANAGER).withLabel(Labels.INSTANCE, target.release()).list().getItems()) {
          String component = d.getMetadata().getLabels().get(Labels.COMPONENT);
          Tags c = tags.and("component", component);
          var status = d.getStatus();
          replicas.add(new GaugeTable.Row(c.and("state", "desired"), d.getSpec().getReplicas() == null ? 0 : d.getSpec().getReplicas()));
          replicas.add(new GaugeTable.Row(c.and("state", "ready"), status == null || status.getReadyReplicas() == null ? 0 : status.getReadyReplicas()));
          replicas.add(new GaugeTable.Row(c.and("state", "available"), status == null || status.getAvailableReplicas() == null ? 0 : status.getAvailableReplicas()));
          int restartCount = 0;
          for (Pod pod : client.pods().inNamespace(target.namespace()).withLabels(d.getSpec().getSelector().getMatchLabels())
              .list().getItems()) {
            if (pod.getStatus() != null && pod.getStatus().getContainerStatuses() != null) {
              restartCount += pod.getStatus().getContainerStatuses().stream().mapToInt(ContainerStatus::getRestartCount).sum();
            }
          }
          restarts.add(new GaugeTable.Row(c, restartCount));
        }
        metrics.replicas.set(target.environment(), replicas);
        metrics.restarts.set(target.environment(), restarts);
        backups(target, tags);
      } catch (RuntimeException e) {
        LOG.warn("cannot read Deployments of {}: {}", target.environment(), e.getMessage());
      }
    }
    return null;
  }

  /**
   * Backup health from the CronJob and the Jobs it owns; nothing here reads the backups volume. Every series
   * exists from the CronJob's creation on: a backup that never succeeded ages from then, so it pages too.
   */
  private void backups(DatabaseTarget target, Tags tags) {
    List<GaugeTable.Row> success = new ArrayList<>();
    List<GaugeTable.Row> schedule = new ArrayList<>();
    List<GaugeTable.Row> age = new ArrayList<>();
    List<GaugeTable.Row> created = new ArrayList<>();
    List<GaugeTable.Row> suspended = new ArrayList<>();
    List<GaugeTable.Row> lastFailed = new ArrayList<>();
    List<GaugeTable.Row> failed = new ArrayList<>();
    for (CronJob cron : client.batch().v1().cronjobs().inNamespace(target.namespace())
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER).withLabel(Labels.COMPONENT, Labels.BACKUP)
        .withLabel(Labels.INSTANCE, target.release()).list().getItems()) {
      List<Job> jobs = client.batch().v1().jobs().inNamespace(target.namespace())
          .withLabel(Labels.COMPONENT, Labels.BACKUP).withLabel(Labels.INSTANCE, target.release()).list().getItems()
          .stream().filter(job -> ownedBy(job, cron)).toList();
      BackupHistory history = BackupHistory.of(cron, jobs);
      long now = Instant.now().getEpochSecond();
      history.lastSuccess().ifPresent(at -> success.add(new GaugeTable.Row(tags, at.getEpochSecond())));
      history.lastSchedule().ifPresent(at -> schedule.add(new GaugeTable.Row(tags, at.getEpochSecond())));
      age.add(new GaugeTable.Row(tags, now - history.agedFrom().getEpochSecond()));
      created.add(new GaugeTable.Row(tags, history.created().getEpochSecond()));
      suspended.add(new GaugeTable.Row(tags, history.suspended() ? 1 : 0));
      lastFailed.add(new GaugeTable.Row(tags, history.lastJobFailed() ? 1 : 0));
      failed.add(new GaugeTable.Row(tags, history.failedJobs()));
    }
    metrics.backupLastSuccess.set(target.environment(), success);
    metrics.backupLastSchedule.set(target.environment(), schedule);
    metrics.backupAge.set(target.environment(), age);
    metrics.backupCreated.set(target.environment(), created);
    metrics.backupSuspended.set(target.environment(), suspended);
    metrics.backupLastJobFailed.set(target.environment(), lastFailed);
    metrics.backupFailedJobs.set(target.environment(), failed);
  }

  /** Backup Jobs are the CronJob's own (scheduled, or made by {@code backup} from it); a restore Job is not one. */
  private static boolean ownedBy(Job job, CronJob cron) {
    return job.getMetadata().getOwnerReferences() != null && job.getMetadata().getOwnerReferences().stream()
        .anyMatch(owner -> owner.getUid() != null && owner.getUid().equals(cron.getMetadata().getUid()));
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
