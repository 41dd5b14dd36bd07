package io.langconnect.gitops.sync;

import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.SyncMetrics;
import io.langconnect.gitops.values.ValuesFolder;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns "new revision", "sync requested" and the drift timer into one serialized sync per environment.
 * Syncs of one environment never overlap: a request during a sync collapses into one follow-up. Each
 * environment syncs on its own worker, so one slow or failing environment never holds another; a failed
 * one is retried with backoff until it succeeds or a newer revision replaces it. State is touched only on
 * the event loop; blocking work runs on the sync worker pool.
 */
public final class SyncVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SyncVerticle.class);

  /** Per environment: is a sync running, is another one wanted after it, and how often it failed in a row. */
  private static final class Lane {
    boolean running;
    boolean pending;
    boolean checkingHealth;
    boolean healthAgain;
    int failures;
    long retryTimer = -1;
    /** When the oldest push webhook not yet reflected in a sync arrived, or 0. */
    long webhookSince;
  }

  private final SyncService service;
  private final SyncMetrics metrics;
  private final Duration driftInterval;
  private final Duration healthInterval;
  private final int parallelism;

  private final Map<String, Lane> lanes = new HashMap<>();
  /** The environments this controller syncs (its shard's), and every environment the values define. */
  private Map<String, ValuesFolder.Environment> environments = new LinkedHashMap<>();
  private List<String> present = List.of();
  private String revision;
  private WorkerExecutor workers;
  private long driftTimer = -1;
  private long healthTimer = -1;
  /** Set when undeployed (the leader lost its Lease, or shutdown): no new work starts. */
  private volatile boolean stopping;
  /** Syncs, prunes and health reads running on a worker thread now: undeploying waits until none is. */
  private final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();

  public SyncVerticle(SyncService service, SyncMetrics metrics, Duration driftInterval, Duration healthInterval, int parallelism) {
    this.healthInterval = healthInterval;
    this.service = service;
    this.metrics = metrics;
    this.driftInterval = driftInterval;
    this.parallelism = parallelism;
  }

  @Override
  public Future<?> start() {
    workers = vertx.createSharedWorkerExecutor("langconnect-sync", parallelism);
    vertx.eventBus().<Revision>localConsumer(Addresses.REVISION_FETCHED, message -> onRevision(message.body()));
    vertx.eventBus().<JsonObject>localConsumer(Addresses.SYNC_REQUESTED, message -> {
      String env = message.body() == null ? null : message.body().getString("environment");
      if (env == null) environments.keySet().forEach(this::request);
      else if (environments.containsKey(env) && isOurs(env, message.body())) request(env);
      // A control of a removed environment (its prune just confirmed); drift of one is no reason to look.
      else if (revision != null && !"drift".equals(message.body().getString("reason"))) pruneRemoved();
    });
    vertx.eventBus().<JsonObject>localConsumer(Addresses.HEALTH_REQUESTED, message -> {
      String env = message.body().getString("environment");
      if (environments.containsKey(env) && isOurs(env, message.body())) refreshHealth(env);
    });
    driftTimer = vertx.setPeriodic(driftInterval.toMillis(), id -> environments.keySet().forEach(this::request));
    healthTimer = vertx.setPeriodic(healthInterval.toMillis(), id -> refreshHealth());
    return Future.succeededFuture();
  }

  private void onRevision(Revision fetched) {
    revision = fetched.commit();
    // Without the values path nothing is synced or pruned (the poller logged why): a moved path is no deletion.
    if (fetched.environments().isEmpty()) return;
    environments = new LinkedHashMap<>();
    present = fetched.environments().get().stream().map(ValuesFolder.Environment::name).toList();
    fetched.environments().get().stream().filter(service::syncs).forEach(env -> environments.put(env.name(), env));
    environments.keySet().stream().filter(fetched::touches).forEach(env -> {
      Lane lane = lane(env);
      if (fetched.webhookReceivedAt() > 0 && lane.webhookSince == 0) lane.webhookSince = fetched.webhookReceivedAt();
      lane.failures = 0;
      if (lane.retryTimer >= 0) vertx.cancelTimer(lane.retryTimer);
      lane.retryTimer = -1;
      request(env);
    });
    pruneRemoved();
  }

  /**
   * A drift event names the object's namespace and cluster: an environment of the same name elsewhere (another
   * controller's, or the one this environment moved away from, whose database stays until pruned) is not this one.
   */
  private boolean isOurs(String env, JsonObject event) {
    String namespace = event.getString("namespace");
    String cluster = event.getString("cluster");
    if (namespace == null) return true;
    ValuesFolder.Environment environment = environments.get(env);
    return environment.values().map(v -> v.namespace().equals(namespace) && (cluster == null || v.cluster().equals(cluster)))
        .orElse(false);
  }

  /**
   * Environments not Ready are looked at again between syncs, so Progressing turns Ready (or Degraded) on time; a
   * Ready one is looked at when the status of one of its objects moves.
   */
  private void refreshHealth() {
    environments.keySet().stream().filter(env -> !service.isReady(env)).forEach(this::refreshHealth);
  }

  private void refreshHealth(String env) {
    if (stopping) return;
    Lane lane = lane(env);
    if (lane.running) return; // a sync assesses health itself when it ends
    if (lane.checkingHealth) {
      lane.healthAgain = true; // what changed meanwhile may not be in what that read saw
      return;
    }
    lane.checkingHealth = true;
    blocking(() -> service.refreshHealth(env)).onComplete(done -> {
      lane.checkingHealth = false;
      if (done.failed()) LOG.debug("health of {} not read: {}", env, done.cause().getMessage());
      if (done.succeeded() && done.result()) {
        LOG.info("{}: syncing: a Secret it applies is gone, or a change held while the database was down can go ahead", env);
        request(env);
      }
      if (lane.healthAgain) {
        lane.healthAgain = false;
        refreshHealth(env);
      }
    });
  }

  private void pruneRemoved() {
    if (stopping) return;
    List<String> present = this.present;
    String rev = revision;
    blocking(() -> service.removedEnvironments(present)).onSuccess(removed -> removed.forEach(env -> {
      Lane lane = lane(env);
      if (lane.running) {
        lane.pending = true;
        return;
      }
      lane.running = true;
      blocking(() -> service.pruneRemoved(env, rev, false, present.isEmpty())).onComplete(done -> {
        lane.running = false;
        lanes.remove(env);
        publishFinished(env, rev, done.succeeded() ? done.result().result().name() : "FAILED");
      });
    })).onFailure(e -> LOG.warn("could not list inventories to find removed environments: {}", e.getMessage()));
  }

  private Lane lane(String env) {
    return lanes.computeIfAbsent(env, e -> new Lane());
  }

  private void request(String env) {
    if (stopping) return;
    Lane lane = lane(env);
    if (lane.running) {
      lane.pending = true;
      return;
    }
    Optional<ValuesFolder.Environment> environment = Optional.ofNullable(environments.get(env));
    if (revision == null) return;
    if (environment.isEmpty()) {
      // Its values file went while it synced (a prune waited for that sync): prune it now, not at the next commit.
      pruneRemoved();
      return;
    }
    lane.running = true;
    String rev = revision;
    blocking(() -> service.sync(environment.get(), rev, false)).onComplete(done -> {
      lane.running = false;
      EnvironmentStatus.Result result = done.succeeded() ? done.result().result() : EnvironmentStatus.Result.FAILED;
      if (done.failed() && (stopping || Interruptions.isInterruption(done.cause()))) {
        LOG.info("sync of {} stopped: the controller is stopping or lost its leadership", env);
        return;
      }
      if (done.failed()) LOG.error("sync of {} crashed", env, done.cause());
      publishFinished(env, rev, result.name());
      if (result == EnvironmentStatus.Result.SYNCED && lane.webhookSince > 0 && rev.equals(revision)) {
        metrics.webhookToSync(env, Duration.ofMillis(System.currentTimeMillis() - lane.webhookSince));
        lane.webhookSince = 0;
      }
      if (lane.pending) {
        lane.pending = false;
        request(env);
      } else if ((result == EnvironmentStatus.Result.FAILED || result == EnvironmentStatus.Result.PROGRESSING)
          && environment.get().isValid()) {
        // Invalid values cannot heal by retrying; only a new revision can fix them.
        scheduleRetry(env, lane, result);
      } else {
        lane.failures = 0;
      }
    });
  }

  /**
   * A failure is tried again after a growing wait; an environment still on its way (a database starting, a namespace
   * being deleted, a newer revision not fetched yet) is looked at again within seconds, since that ends by itself.
   */
  private void scheduleRetry(String env, Lane lane, EnvironmentStatus.Result result) {
    if (result == EnvironmentStatus.Result.FAILED) lane.failures++;
    Duration wait = result == EnvironmentStatus.Result.FAILED
        ? Retry.backoff(lane.failures, Duration.ofSeconds(5), Duration.ofMinutes(5))
        : Retry.backoff(0, Duration.ofSeconds(5), Duration.ofSeconds(5));
    lane.retryTimer = vertx.setTimer(wait.toMillis(), id -> {
      lane.retryTimer = -1;
      request(env);
    });
  }

  private void publishFinished(String env, String rev, String result) {
    vertx.eventBus().publish(Addresses.SYNC_FINISHED,
        new JsonObject().put("environment", env).put("revision", rev).put("result", result));
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    if (driftTimer >= 0) vertx.cancelTimer(driftTimer);
    if (healthTimer >= 0) vertx.cancelTimer(healthTimer);
    lanes.values().forEach(lane -> {
      if (lane.retryTimer >= 0) vertx.cancelTimer(lane.retryTimer);
    });
    if (workers == null) return Future.succeededFuture();
    // Closing interrupts what runs; the Lease is released only once every worker thread has let go (Controller).
    return workers.close().compose(v -> drained(System.nanoTime() + DRAIN_LIMIT.toNanos()));
  }

  private static final Duration DRAIN_LIMIT = Duration.ofSeconds(30);

  private Future<Void> drained(long deadline) {
    if (running.get() == 0) return Future.succeededFuture();
    if (System.nanoTime() > deadline) {
      LOG.warn("{} sync(s) still running {} s after they were interrupted; stopping anyway", running.get(),
          DRAIN_LIMIT.toSeconds());
      return Future.succeededFuture();
    }
    io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
    vertx.setTimer(20, id -> drained(deadline).onComplete(later));
    return later.future();
  }

  /**
   * Runs {@code task} on a worker thread, counted while it runs. A task that starts once stopping began does not run:
   * its count comes before its look at {@code stopping}, so stop() either sees it counted or it sees stop().
   */
  private <T> Future<T> blocking(java.util.concurrent.Callable<T> task) {
    return workers.executeBlocking(() -> {
      running.incrementAndGet();
      try {
        if (stopping) throw new java.util.concurrent.CancellationException("the controller is stopping");
        return task.call();
      } finally {
        running.decrementAndGet();
      }
    }, false);
  }
}
