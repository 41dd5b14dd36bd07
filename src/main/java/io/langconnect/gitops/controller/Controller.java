package io.langconnect.gitops.controller;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.langconnect.gitops.apply.DriftWatch;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.Namespaces;
import io.langconnect.gitops.apply.StateCache;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.apply.WorkloadCache;
import io.langconnect.gitops.cluster.AgeKeys;
import io.langconnect.gitops.cluster.Clusters;
import io.langconnect.gitops.cluster.RemoteClusters;
import io.langconnect.gitops.config.ConfigLoader;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.control.ControlStore;
import io.langconnect.gitops.control.LeaderDirectory;
import io.langconnect.gitops.control.PollHandoff;
import io.langconnect.gitops.git.ValuesRepository;
import io.langconnect.gitops.http.HttpApiVerticle;
import io.langconnect.gitops.http.WebhookRoutes;
import io.langconnect.gitops.notify.Notifier;
import io.langconnect.gitops.observe.MetricsExposition;
import io.langconnect.gitops.observe.ObserverVerticle;
import io.langconnect.gitops.observe.ServerVersions;
import io.langconnect.gitops.status.StatusBoard;
import io.langconnect.gitops.status.SyncMetrics;
import io.langconnect.gitops.status.SyncRecord;
import io.langconnect.gitops.sync.Addresses;
import io.langconnect.gitops.sync.GitPollerVerticle;
import io.langconnect.gitops.sync.SyncService;
import io.langconnect.gitops.sync.SyncVerticle;
import io.langconnect.gitops.values.NamespacePolicy;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root, in a package of its own so that the others' arrows point one way (http and sync never
 * import each other both ways). The running controller: every replica serves HTTP; only the leader (a coordination.k8s.io Lease)
 * polls git and syncs. Losing the lease undeploys the sync side at once.
 */
public final class Controller implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

  private final Vertx vertx;
  private final KubernetesClient client;
  private final ControllerConfig config;
  private final StatusBoard board = new StatusBoard();
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final MetricsExposition exposition = new MetricsExposition(registry);
  private final SyncMetrics metrics = new SyncMetrics(registry, exposition::changed);
  private final String identity;
  private final List<String> syncDeployments = new ArrayList<>();
  private final PollHandoff handoff;
  private final ControlStore controls;
  private final InventoryStore inventories;
  /** The inventories and controls as the state namespace's watch last saw them: a sync reads them from here. */
  private final StateCache state;
  private final LeaderDirectory directory;
  /** The leader's drift watches, one per cluster's cache. */
  private final Map<WorkloadCache, DriftWatch> driftWatches = new java.util.concurrent.ConcurrentHashMap<>();
  private final Clusters clusters;
  private final Retry retry;
  private long connectTimer = -1;
  private final ServerVersions versions = new ServerVersions();
  private final WorkloadCache workloads;
  private final Notifier notifier;
  private HttpApiVerticle http;
  private ValuesRepository repository;
  private CompletableFuture<?> election;

  public Controller(Vertx vertx, KubernetesClient client, ControllerConfig config) {
    this.vertx = vertx;
    this.client = client;
    this.config = config;
    this.identity = Optional.ofNullable(System.getenv("POD_NAME")).orElseGet(Controller::hostname)
        + "-" + UUID.randomUUID().toString().substring(0, 6);
    this.handoff = new PollHandoff(client, config.kubernetes().stateNamespace(), config.leaseName());
    this.retry = Retry.apiCalls(config.sync().retries());
    this.state = new StateCache(client, config.kubernetes().stateNamespace());
    this.controls = new ControlStore(client, config.kubernetes().stateNamespace(), retry, Optional.of(state));
    this.inventories = new InventoryStore(client, config.namespacePolicy(), retry, Optional.of(state));
    this.directory = new LeaderDirectory(client, config.kubernetes().stateNamespace(), config.leaseName());
    this.workloads = new WorkloadCache(client);
    this.clusters = targets();
    this.notifier = new Notifier(vertx, config.notifications(), config.git().url(), registry, exposition::changed);
  }

  public StatusBoard board() {
    return board;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Everything /metrics serves. */
  public MetricsExposition exposition() {
    return exposition;
  }

  public int httpPort() {
    return http.actualPort();
  }

  public Future<Void> start() throws Exception {
    repository = new ValuesRepository(config.git());
    WebhookRoutes webhooks = new WebhookRoutes(WebhookRoutes.secrets(config.webhooks(), System.getenv()),
        config.git().branch(), repository.displayPrefix(), config.webhooks().maxBodyBytes(), metrics, this::queuePoll);
    http = new HttpApiVerticle(board, exposition, readToken(config.http().apiTokenFile()), webhooks,
        new HttpApiVerticle.Actions(
            // On the environment's cluster, as its last status says.
            status -> vertx.executeBlocking(() -> clusters.get(status.cluster()).backups()
                .start(status.namespace(), status.name()), false),
            (env, suspension) -> vertx.executeBlocking(() -> {
              if (suspension.isPresent()) controls.suspend(env, suspension.get().by(), suspension.get().reason());
              else controls.resume(env);
              return null;
            }, false),
            env -> vertx.executeBlocking(() -> {
              controls.confirmPrune(env, inventories.read(env).map(Inventory::revision).orElse(""));
              return null;
            }, false),
            env -> vertx.executeBlocking(() -> {
              controls.skipBackupOnce(env);
              return null;
            }, false),
            () -> vertx.executeBlocking(directory::apiUrl, false)),
        config.http());
    Future<String> observer = config.observe().enabled()
        ? vertx.deployVerticle(new ObserverVerticle(client, workloads, this::otherClusters, config, exposition, versions,
            inventories, board::leader))
        : Future.succeededFuture("");
    connectClusters();
    return observer.compose(o -> vertx.deployVerticle(http)).compose(id -> {
      checkApi();
      if (config.kubernetes().leaderElection()) vertx.executeBlocking(this::ensureStateNamespace).onComplete(done -> startElection());
      else {
        board.leader(true);
        vertx.eventBus().publish(ObserverVerticle.LEADERSHIP, true);
        return startSyncing();
      }
      return Future.succeededFuture();
    }).mapEmpty();
  }

  /** A push polls here when this replica leads, else goes to the leader through the state namespace. */
  private Future<String> queuePoll(JsonObject request) {
    if (board.leader()) {
      vertx.eventBus().publish(Addresses.POLL_REQUESTED, request);
      return Future.succeededFuture("queued");
    }
    return vertx.executeBlocking(() -> {
      handoff.forward(request);
      return "handed-off";
    }, false);
  }

  /** One cheap call, so /readyz can say the API server was reached. */
  private void checkApi() {
    vertx.executeBlocking(() -> client.getKubernetesVersion().getGitVersion()).onSuccess(version -> {
      board.markApiReady();
      LOG.info("connected to Kubernetes {} at {}", version, client.getMasterUrl());
    }).onFailure(e -> {
      LOG.warn("cannot reach the Kubernetes API at {}: {}; retrying", client.getMasterUrl(), e.getMessage());
      vertx.setTimer(5_000, id -> checkApi());
    });
  }

  /** The Lease and the inventories live there; the manifests create it, a local run may not have. */
  private Void ensureStateNamespace() {
    String ns = config.kubernetes().stateNamespace();
    try {
      Namespaces.ensure(client, ns, Map.of());
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      LOG.warn("cannot create the state namespace {}: {}", ns, e.getMessage());
    }
    return null;
  }

  private Future<Void> startSyncing() {
    workloads.start(); // health between syncs is read from it, with or without the metrics
    state.start();
    SyncService service = new SyncService(new SyncService.Cluster(inventories, controls, clusters),
        notifier.around(SyncRecord.of(board, metrics)), config.sync(), versions, repository);
    return vertx.deployVerticle(new SyncVerticle(service, metrics, config.sync().driftInterval(), config.sync().healthInterval(), config.sync().parallelism()))
        .compose(id -> {
          synchronized (syncDeployments) {
            syncDeployments.add(id);
          }
          return vertx.deployVerticle(new GitPollerVerticle(repository, config.namespacePolicy(),
              new AgeKeys(config.decryption(), Optional.of(client), config.kubernetes().stateNamespace()),
              config.git().interval(),
              config.webhooks().debounce(), metrics, board));
        })
        .onSuccess(id -> {
          synchronized (syncDeployments) {
            syncDeployments.add(id);
          }
          watchControls();
          clusters.connected().forEach(target -> target.cache().ifPresent(cache -> watchDrift(target.name(), cache)));
        })
        .mapEmpty();
  }

  /**
   * The controller's own cluster and the config's others; a remote one is connected when an environment first needs
   * it, with a watch cache of its own that feeds drift and health as the home cluster's does.
   */
  private Clusters targets() {
    Clusters.Target home = Clusters.Target.of(NamespacePolicy.IN_CLUSTER, client, retry, Optional.of(workloads), identity);
    return new Clusters(home, config.clusters(), name -> {
      KubernetesClient remote = RemoteClusters.connect(name, config, client);
      WorkloadCache cache = new WorkloadCache(remote);
      cache.start();
      if (board.leader()) watchDrift(name, cache);
      LOG.info("connected to cluster {} at {}", name, remote.getMasterUrl());
      return Clusters.Target.of(name, remote, retry, Optional.of(cache), identity);
    }, config.shard()::includes);
  }

  /**
   * Every replica connects the configured clusters (a move prunes on the cluster it left, whichever shard that is),
   * trying again every 30 s while one cannot be: its Secret not written yet, its API server unreachable.
   */
  private void connectClusters() {
    if (config.clusters().isEmpty()) return;
    Runnable attempt = () -> vertx.executeBlocking(() -> {
      clusters.connectAll();
      return null;
    }, false);
    attempt.run();
    connectTimer = vertx.setPeriodic(30_000, id -> attempt.run());
  }

  private List<ObserverVerticle.ObservedCluster> otherClusters() {
    return clusters.connected().stream().filter(target -> !target.isHome() && target.cache().isPresent())
        .map(target -> new ObserverVerticle.ObservedCluster(target.name(), target.client(), target.cache().get()))
        .toList();
  }

  /**
   * A managed object someone else changed or deleted syncs its environment at once (not at the hourly re-check);
   * one whose status moved has its environment's health read again. Events name their cluster: an environment that
   * moved away leaves objects of its name there (its database), whose changes are not this environment's.
   */
  private void watchDrift(String cluster, WorkloadCache cache) {
    driftWatches.computeIfAbsent(cache, c -> startDriftWatch(cluster, c));
  }

  private DriftWatch startDriftWatch(String cluster, WorkloadCache cache) {
    DriftWatch watch = new DriftWatch(cache,
        (env, namespace) -> vertx.runOnContext(v -> vertx.eventBus().publish(Addresses.SYNC_REQUESTED,
            new JsonObject().put("environment", env).put("namespace", namespace).put("cluster", cluster)
                .put("reason", "drift"))),
        (env, namespace) -> vertx.runOnContext(v -> vertx.eventBus().publish(Addresses.HEALTH_REQUESTED,
            new JsonObject().put("environment", env).put("namespace", namespace).put("cluster", cluster))));
    watch.start();
    return watch;
  }

  /** A suspend, resume or confirmation written to the cluster (by the CLI or any replica) syncs its environment at once. */
  private void watchControls() {
    vertx.executeBlocking(() -> {
      controls.startWatching(
          env -> vertx.runOnContext(v -> vertx.eventBus().publish(Addresses.SYNC_REQUESTED,
              new JsonObject().put("environment", env).put("reason", "control"))),
          retry -> vertx.setTimer(1_000, id -> vertx.executeBlocking(() -> {
            retry.run();
            return null;
          })));
      return null;
    }).onFailure(e -> LOG.warn("cannot watch suspend/resume/confirm controls: {}", e.getMessage()));
  }

  /** Losing the Lease and shutting down may both stop syncing, from different threads: each id is undeployed once. */
  private Future<Void> stopSyncing() {
    driftWatches.values().forEach(DriftWatch::close);
    driftWatches.clear();
    List<String> ids;
    synchronized (syncDeployments) {
      ids = List.copyOf(syncDeployments);
      syncDeployments.clear();
    }
    return Future.all(ids.stream().map(id -> vertx.undeploy(id).recover(e -> Future.succeededFuture())).toList())
        .mapEmpty();
  }

  private void startElection() {
    LeaderElector elector = client.leaderElector().withConfig(new LeaderElectionConfigBuilder()
        .withName(config.leaseName())
        .withLock(new LeaseLock(config.kubernetes().stateNamespace(), config.leaseName(), identity))
        .withLeaseDuration(Duration.ofSeconds(15))
        .withRenewDeadline(Duration.ofSeconds(10))
        .withRetryPeriod(Duration.ofSeconds(2))
        .withReleaseOnCancel(true)
        .withLeaderCallbacks(new LeaderCallbacks(
            () -> vertx.runOnContext(v -> {
              LOG.info("{} is the leader: syncing", identity);
              board.leader(true);
              vertx.eventBus().publish(ObserverVerticle.LEADERSHIP, true);
              vertx.executeBlocking(() -> {
                directory.announce(ownApiUrl());
                return null;
              }).onFailure(e -> LOG.warn("cannot tell standbys where this leader's API is: {}", e.getMessage()));
              startSyncing().onSuccess(started -> vertx.executeBlocking(() -> {
                handoff.startWatching(vertx);
                return null;
              }).onFailure(e -> LOG.warn("cannot watch for webhooks handed over by standbys: {}", e.getMessage())));
            }),
            () -> vertx.runOnContext(v -> {
              LOG.info("{} is no longer the leader: stopped syncing", identity);
              board.leader(false);
              vertx.eventBus().publish(ObserverVerticle.LEADERSHIP, false);
              handoff.stopWatching();
              controls.stopWatching();
              stopSyncing();
            }),
            leader -> LOG.info("leader is {}", leader)))
        .build()).build();
    election = elector.start();
  }

  /** How the other replicas reach this one: its pod's IP in a cluster (POD_IP), else the address it listens on. */
  private String ownApiUrl() {
    String host = Optional.ofNullable(System.getenv("POD_IP")).filter(ip -> !ip.isBlank())
        .orElse(config.http().host().equals("0.0.0.0") ? "127.0.0.1" : config.http().host());
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + httpPort();
  }

  /** An empty token would let a request without one through: the controller does not start with it. */
  private static Optional<String> readToken(String file) {
    if (file == null) return Optional.empty();
    try {
      String token = Files.readString(Path.of(file)).strip();
      if (token.isEmpty()) {
        throw new ConfigLoader.ConfigException("http.apiTokenFile: " + file + " is empty; expected a file holding the"
            + " bearer token (e.g. `openssl rand -hex 32`): an empty token would open the API to everyone");
      }
      return Optional.of(token);
    } catch (IOException e) {
      throw new ConfigLoader.ConfigException("http.apiTokenFile: cannot read " + file
          + " (" + e.getClass().getSimpleName() + "); expected a file holding the bearer token");
    }
  }

  private static String hostname() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "langconnect-gitops";
    }
  }

  @Override
  public void close() {
    if (connectTimer >= 0) vertx.cancelTimer(connectTimer);
    handoff.stopWatching();
    controls.stopWatching();
    // Every sync has stopped (its worker thread let go) before the Lease is released: the next leader never applies,
    // prunes or backs up beside this one.
    stopSyncing().await();
    if (election != null) election.cancel(true);
    workloads.close();
    state.close();
    clusters.close();
    notifier.close();
    if (repository != null) repository.close();
  }
}
