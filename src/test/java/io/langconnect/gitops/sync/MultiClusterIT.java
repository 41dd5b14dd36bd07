package io.langconnect.gitops.sync;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.control.ControlStore;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.FaultProxy;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.PodOutcome;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * One controller, two clusters: qa (a staging environment) on its own, live (a production one) on the second API
 * server test-env starts, reached through a {@link FaultProxy} so that it can be cut off. Named apart from the
 * other tests' staging and prod, whose metrics are read on the same control plane.
 */
@ExtendWith(LocalControlPlane.class)
class MultiClusterIT {

  // HTTP/1.1, as Prometheus scrapes: the class's controllers come and go on ephemeral ports, and Java's client sends a
  // GET again when a kept-alive HTTP/1.1 connection turns out closed, which it does not on HTTP/2 (one scrape here
  // once ended "EOF reached while reading" on an h2c connection).
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @TempDir
  Path tmp;

  private LocalControlPlane plane;
  private KubernetesClient here;
  private KubernetesClient there;
  private LocalControlPlane.SecondCluster second;
  private FaultProxy proxy;
  private PodReadiness kubeletHere;
  private PodReadiness kubeletThere;
  private ValuesRepo repo;
  private Vertx vertx;
  private String stagingNs;
  private String prodNs;
  private String stateNs;
  private Path kubeconfig;

  @BeforeEach
  void setUp(LocalControlPlane plane) throws Exception {
    this.plane = plane;
    here = plane.admin();
    second = plane.secondCluster();
    there = second.client(second.apiUrl(), second.adminToken());
    proxy = FaultProxy.start(second.apiUrl(), second.caFile());
    kubeconfig = Files.writeString(tmp.resolve("second.kubeconfig"), second.kubeconfig(proxy.url(), second.adminToken()));
    stagingNs = plane.uniqueNamespace("it-mc-staging");
    prodNs = plane.uniqueNamespace("it-mc-prod");
    stateNs = plane.uniqueNamespace("it-mc-state");
    kubeletHere = PodReadiness.markReady(here, "it-mc");
    kubeletThere = PodReadiness.markReady(there, "it-mc");
    repo = ValuesRepo.create(plane, tmp.resolve("work"));
    repo.write("values-qa.yaml", qa(1, Optional.empty()));
    repo.write("values-live.yaml", live(1)).commitAndPush("qa here, live there");
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    kubeletHere.close();
    kubeletThere.close();
    for (String ns : new String[] {stagingNs, prodNs}) there.namespaces().withName(ns).withGracePeriod(0).delete();
    there.close();
    proxy.close();
    repo.close();
    vertx.close().await();
  }

  private static final String IMAGE = """
      langconnect:
        image:
          repository: registry.example.com/langconnect
          tag: "1.0.0"
      """;

  private String qa(int replicas, Optional<String> cluster) {
    return "namespace: " + stagingNs + "\n" + cluster.map(c -> "cluster: " + c + "\n").orElse("") + IMAGE
        + "  replicaCount: " + replicas + "\npostgres:\n  auth:\n    password: staging-password\n"
        + "  persistence:\n    enabled: true\n";
  }

  private String live(int replicas) {
    return "namespace: " + prodNs + "\ncluster: second\nproduction: true\n" + IMAGE + "  replicaCount: " + replicas
        + "\npostgres:\n  auth:\n    password: prod-password-long-enough\n  persistence:\n    enabled: true\n";
  }

  private ControllerConfig config() {
    return config(Map.of("second", new ControllerConfig.ClusterEndpoint(kubeconfig.toString(), null)));
  }

  private ControllerConfig config(Map<String, ControllerConfig.ClusterEndpoint> clusters) {
    return new ControllerConfig(
        new ControllerConfig.Git(repo.gitUrl(), "main", ".", Duration.ofMillis(300), Duration.ofSeconds(5),
            tmp.resolve("clone-" + System.nanoTime()).toString(), null),
        new ControllerConfig.Kubernetes(stateNs, null, false, "it-lease", Duration.ofSeconds(5)),
        new ControllerConfig.Sync(Duration.ofMinutes(5), Duration.ofSeconds(60), 2, 2),
        new ControllerConfig.Http(0, "127.0.0.1", null),
        null, new ControllerConfig.Observe(false, null, null, null, null), null, null).withClusters(clusters);
  }

  private static Optional<Integer> replicas(KubernetesClient cluster, String ns) {
    return Optional.ofNullable(cluster.apps().deployments().inNamespace(ns).withName("langconnect-langconnect").get())
        .map(d -> d.getSpec().getReplicas());
  }

  private static boolean synced(Controller controller, String env) {
    return controller.board().get(env).map(s -> s.result() == EnvironmentStatus.Result.SYNCED).orElse(false);
  }

  /** Every request to the second cluster is cut from now on, open watches included, until {@code proxy.heal()}. */
  private void cutOffTheSecondCluster() {
    proxy.inject(Integer.MAX_VALUE, request -> true, FaultProxy.Fault.cut());
    proxy.cutAll();
  }

  private static boolean synced(Controller controller, String env, String revision) {
    return controller.board().get(env)
        .map(s -> s.result() == EnvironmentStatus.Result.SYNCED && s.revision().equals(revision)).orElse(false);
  }

  private static List<String> claimUids(KubernetesClient cluster, String ns) {
    return cluster.persistentVolumeClaims().inNamespace(ns).list().getItems().stream()
        .map(c -> c.getMetadata().getUid()).sorted().toList();
  }

  private ConfigMap inventory(String env) {
    return here.configMaps().inNamespace(stateNs).withName(InventoryStore.configMapName(env)).get();
  }

  @Test
  void cloudnativePgOnAClusterWithoutTheOperatorIsFailedInOneLineAndNothingIsApplied() throws Exception {
    repo.write("values-live.yaml", "namespace: " + prodNs + "\ncluster: second\n" + IMAGE
        + "postgres:\n  engine: cloudnative-pg\n  image: {repository: ghcr.io/cloudnative-pg/postgresql, tag: \"17\"}\n")
        .commitAndPush("live on CloudNativePG, which the second cluster does not run");
    try (Controller controller = new Controller(vertx, here, config())) {
      controller.start().await();
      eventually("live failed", () -> controller.board().get("live")
          .map(s -> s.result() == EnvironmentStatus.Result.FAILED).orElse(false));
      assertThat(controller.board().get("live").get().message()).isEqualTo("values-live.yaml:8: postgres.engine:"
          + " cloudnative-pg needs CloudNativePG's operator on cluster second, whose API server does not serve"
          + " postgresql.cnpg.io/v1 Clusters; install CloudNativePG 1.27 to 1.29 (README: Database engines), nothing"
          + " was applied");
      assertThat(replicas(there, prodNs)).as("nothing applied").isEmpty();
    }
  }

  @Test
  void qaHereLiveThereCreatedUpdatedCorrectedAndPrunedEachOnItsOwnCluster() throws Exception {
    try (Controller controller = new Controller(vertx, here, config())) {
      controller.start().await();
      eventually("both environments synced", () -> controller.board().get("qa").isPresent()
          && synced(controller, "qa", controller.board().get("qa").get().revision())
          && synced(controller, "live"));
      assertThat(replicas(here, stagingNs)).contains(1);
      assertThat(replicas(there, stagingNs)).isEmpty();
      assertThat(replicas(there, prodNs)).contains(1);
      assertThat(replicas(here, prodNs)).isEmpty();
      assertThat(controller.board().get("live").get().cluster()).isEqualTo("second");
      assertThat(controller.board().get("qa").get().cluster()).isEqualTo("in-cluster");
      assertThat(inventory("live").getData()).containsEntry("cluster", "second").containsEntry("namespace", prodNs);
      assertThat(there.configMaps().inNamespace(stateNs).withName(InventoryStore.configMapName("live")).get())
          .as("inventories stay in the controller's own cluster").isNull();

      String update = repo.write("values-live.yaml", live(2)).commitAndPush("live: 2 replicas");
      eventually("live updated there", () -> synced(controller, "live", update) && replicas(there, prodNs).equals(Optional.of(2)));

      // As `kubectl patch` does it: no resourceVersion, so the Deployment controller's status writes cannot conflict.
      there.apps().deployments().inNamespace(prodNs).withName("langconnect-langconnect")
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":5}}");
      eventually("the hand edit on the second cluster corrected", () -> replicas(there, prodNs).equals(Optional.of(2)));

      String removed = repo.delete("values-live.yaml").commitAndPush("live removed");
      eventually("the production prune held", () -> controller.board().get("live")
          .map(s -> s.result() == EnvironmentStatus.Result.PRUNE_HELD).orElse(false));
      new ControlStore(here, stateNs, new Retry(1, Duration.ZERO, Duration.ZERO)).confirmPrune("live", inventory("live").getData().get("revision"));
      eventually("live pruned there", () -> replicas(there, prodNs).isEmpty() && inventory("live") == null);
      assertThat(there.persistentVolumeClaims().inNamespace(prodNs).list().getItems())
          .as("the data claim stays").isNotEmpty();
      assertThat(there.namespaces().withName(prodNs).get()).isNotNull();
      assertThat(replicas(here, stagingNs)).contains(1);
      assertThat(removed).isNotBlank();
    }
  }

  @Test
  void anUnreachableClusterFailsOnlyItsEnvironmentsAndTheControllerStaysReady() throws Exception {
    try (Controller controller = new Controller(vertx, here, config())) {
      controller.start().await();
      eventually("live synced there", () -> synced(controller, "live"));

      cutOffTheSecondCluster();
      repo.write("values-qa.yaml", qa(2, Optional.empty()));
      String both = repo.write("values-live.yaml", live(3)).commitAndPush("both change");
      eventually("qa synced on time", () -> synced(controller, "qa", both) && replicas(here, stagingNs).equals(Optional.of(2)));
      eventually("live failed, naming its cluster", () -> controller.board().get("live")
          .map(s -> s.result() == EnvironmentStatus.Result.FAILED && s.revision().equals(both)
              && s.message().contains("cluster second")).orElse(false));
      HttpResponse<String> ready = HTTP.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + controller.httpPort() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);

      proxy.heal();
      eventually("live synced once its cluster is back", () -> synced(controller, "live", both)
          && replicas(there, prodNs).equals(Optional.of(3)));

      // A cluster that refuses the controller's credentials: the same, with the API server's answer in the message.
      proxy.inject(Integer.MAX_VALUE, request -> true, FaultProxy.Fault.status(403));
      repo.write("values-qa.yaml", qa(1, Optional.empty()));
      String refused = repo.write("values-live.yaml", live(2)).commitAndPush("both change again");
      eventually("qa synced while live's cluster refuses", () -> synced(controller, "qa", refused));
      eventually("live failed with the refusal, naming its cluster", () -> controller.board().get("live")
          .map(s -> s.result() == EnvironmentStatus.Result.FAILED && s.revision().equals(refused)
              && s.message().startsWith("cluster second: ") && s.message().contains("403")).orElse(false));
      assertThat(replicas(there, prodNs)).contains(3);
    }
  }

  @Test
  void aMovedEnvironmentIsCreatedThereWhileItsDatabaseRunsHereUntilPruned() throws Exception {
    try (Controller controller = new Controller(vertx, here, config())) {
      controller.start().await();
      eventually("qa synced here", () -> synced(controller, "qa") && replicas(here, stagingNs).isPresent());
      List<String> claims = claimUids(here, stagingNs);
      assertThat(claims).as("the database's and the backups' claims").hasSize(2);

      String move = repo.write("values-qa.yaml", qa(1, Optional.of("second"))).commitAndPush("qa moves");
      // An empty database there while the data stays here: held until confirmed.
      eventually("the move held", () -> controller.board().get("qa").map(s -> s.result() == EnvironmentStatus.Result.HELD
          && s.revision().equals(move) && s.message().contains("cluster: second would start an empty database of qa"))
          .orElse(false));
      assertThat(replicas(there, stagingNs)).as("nothing applied there yet").isEmpty();
      // diff says what the move will do: the old database is not among what it prunes.
      Path config = Files.writeString(tmp.resolve("controller.yaml"), "clusters:\n  second:\n    kubeconfigFile: "
          + kubeconfig + "\n");
      io.langconnect.gitops.cli.CliTest.Run diff = io.langconnect.gitops.cli.CliTest.run("diff", "--values",
          tmp.resolve("work").toString(), "--env", "qa", "--config", config.toString(), "--kubeconfig",
          plane.kubeconfig(), "--state-namespace", stateNs);
      assertThat(diff.out()).as(diff.err())
          .contains("# qa: moves from cluster in-cluster to second; its database keeps running there with its data until"
              + " `langconnect-gitops prune --env qa --cluster in-cluster --confirm`:")
          .contains("# qa: StatefulSet/langconnect-postgres (kept until that prune)")
          .doesNotContain("would be pruned");
      new ControlStore(here, stateNs, new Retry(1, Duration.ZERO, Duration.ZERO))
          .confirmNewDatabase("qa", stagingNs + "/langconnect");
      // The final backup runs here first: its Job's pod ended as a kubelet would end it.
      eventually("the final backup here", () -> here.batch().v1().jobs().inNamespace(stagingNs).list().getItems().stream()
          .anyMatch(job -> PodOutcome.finish(here, stagingNs, job.getMetadata().getName(), true)));
      eventually("qa synced there", () -> synced(controller, "qa", move));
      EnvironmentStatus moved = controller.board().get("qa").get();
      assertThat(moved.cluster()).isEqualTo("second");
      assertThat(moved.message()).contains("the final backup on cluster in-cluster before the move is Job")
          .contains("moved from cluster in-cluster")
          .contains("its database on cluster in-cluster (namespace " + stagingNs + ") keeps running with its data")
          .contains("backup --env qa --cluster in-cluster").contains("restore --env qa --from-file")
          .contains("prune --env qa --cluster in-cluster --confirm");
      assertThat(replicas(there, stagingNs)).contains(1);
      StatefulSet database = there.apps().statefulSets().inNamespace(stagingNs).withName("langconnect-postgres").get();
      assertThat(database).as("a new database there").isNotNull();
      assertThat(inventory("qa").getData()).containsEntry("cluster", "second");
      // The old database, its Service, password and backups stay until the user prunes them.
      assertThat(here.apps().statefulSets().inNamespace(stagingNs).withName("langconnect-postgres").get())
          .as("the old database keeps running").isNotNull();
      assertThat(here.services().inNamespace(stagingNs).withName("langconnect-postgres").get()).isNotNull();
      assertThat(here.batch().v1().cronjobs().inNamespace(stagingNs).list().getItems()).isNotEmpty();
      Map<String, String> left = here.configMaps().inNamespace(stateNs)
          .withName(InventoryStore.departedConfigMapName("qa", "in-cluster")).get().getData();

      // A later sync leaves it as it is; a prune confirmed for that record prunes it, claims and namespace kept.
      String scaled = repo.write("values-qa.yaml", qa(2, Optional.of("second"))).commitAndPush("qa scales there");
      eventually("synced again, the old database still running", () -> synced(controller, "qa", scaled)
          && controller.board().get("qa").get().message().contains("keeps running with its data"));
      assertThat(here.apps().statefulSets().inNamespace(stagingNs).withName("langconnect-postgres").get()).isNotNull();
      new ControlStore(here, stateNs, new Retry(1, Duration.ZERO, Duration.ZERO))
          .confirmPruneLeft("qa", "in-cluster", left.get("revision"));
      eventually("pruned here once confirmed", () -> here.apps().statefulSets().inNamespace(stagingNs).list().getItems()
          .isEmpty() && here.configMaps().inNamespace(stateNs)
          .withName(InventoryStore.departedConfigMapName("qa", "in-cluster")).get() == null);
      assertThat(here.apps().deployments().inNamespace(stagingNs).list().getItems()).isEmpty();
      assertThat(claimUids(here, stagingNs)).as("the claims stay where the data is").isEqualTo(claims);
      assertThat(here.namespaces().withName(stagingNs).get()).isNotNull();
      eventually("its status no longer speaks of it", () -> synced(controller, "qa")
          && !controller.board().get("qa").get().message().contains("keeps running"));
      assertThat(replicas(there, stagingNs)).contains(2);
    }
  }

  @Test
  void aControllerRestartedWithoutAClusterPrunesNothingThere() throws Exception {
    try (Controller controller = new Controller(vertx, here, config())) {
      controller.start().await();
      eventually("live synced there", () -> synced(controller, "live"));
    }
    String removed = repo.delete("values-live.yaml").commitAndPush("live removed while its cluster is unknown");
    new ControlStore(here, stateNs, new Retry(1, Duration.ZERO, Duration.ZERO)).confirmPrune("live", inventory("live").getData().get("revision"));
    try (Controller restarted = new Controller(vertx, here, config(Map.of()))) {
      restarted.start().await();
      eventually("the prune refused, saying why", () -> restarted.board().get("live")
          .map(s -> s.result() == EnvironmentStatus.Result.FAILED && s.revision().equals(removed)
              && s.message().contains("on cluster second, which the controller config no longer names: nothing was"
              + " pruned")).orElse(false));
      assertThat(replicas(there, prodNs)).as("nothing it cannot see is pruned").contains(1);
      assertThat(inventory("live").getData()).containsEntry("cluster", "second");
    }
  }

  @Test
  void twoShardsEachSyncTheirOwnClusterUnderALeaseOfTheirOwn() throws Exception {
    ControllerConfig base = config().withObserve(new ControllerConfig.Observe(true, Duration.ofSeconds(1), null,
        Duration.ofSeconds(2), null));
    ControllerConfig.Kubernetes elected = new ControllerConfig.Kubernetes(stateNs, null, true, "it-lease",
        Duration.ofSeconds(5));
    try (Controller home = new Controller(vertx, here, base.withKubernetes(elected)
            .withShard(new ControllerConfig.Shard(java.util.List.of("in-cluster"))));
         Controller remote = new Controller(vertx, here, base.withKubernetes(elected)
            .withShard(new ControllerConfig.Shard(java.util.List.of("second"))))) {
      home.start().await();
      remote.start().await();
      eventually("each shard synced its own environment", () -> synced(home, "qa") && synced(remote, "live"));
      assertThat(home.board().leader()).isTrue();
      assertThat(remote.board().leader()).as("a leader of its own shard, beside the other's").isTrue();
      assertThat(home.board().get("live")).as("not the in-cluster shard's").isEmpty();
      assertThat(remote.board().get("qa")).as("not the second cluster's shard's").isEmpty();
      assertThat(here.leases().inNamespace(stateNs).list().getItems()).extracting(l -> l.getMetadata().getName())
          .contains("it-lease-in-cluster", "it-lease-second");
      assertThat(replicas(here, stagingNs)).contains(1);
      assertThat(replicas(there, prodNs)).contains(1);

      // Each shard exports what runs on its own clusters: every series comes from one shard's replicas.
      String qaReplicas = "langconnect_deployment_replicas{component=\"langconnect\",environment=\"qa\",namespace=\""
          + stagingNs + "\"";
      String liveReplicas = "langconnect_deployment_replicas{component=\"langconnect\",environment=\"live\",namespace=\""
          + prodNs + "\"";
      eventually("each shard exports its own environment's Deployments", () ->
          scrape(home).contains(qaReplicas) && scrape(remote).contains(liveReplicas));
      // (Other tests' environments named live or qa may run on the shared control plane: this test's namespaces.)
      assertThat(scrape(home)).as("the in-cluster shard").doesNotContain("namespace=\"" + prodNs + "\"");
      assertThat(scrape(remote)).as("the second cluster's shard").doesNotContain("namespace=\"" + stagingNs + "\"");
    }
  }

  @Test
  void everyReplicaExportsWhatRunsOnTheOtherClusterWithoutProbingItsDatabase() throws Exception {
    ControllerConfig observing = config().withObserve(new ControllerConfig.Observe(true, Duration.ofSeconds(1), null,
        Duration.ofSeconds(2), null));
    try (Controller controller = new Controller(vertx, here, observing)) {
      controller.start().await();
      eventually("live's Deployments and backups exported from the second cluster", () -> {
        String scrape = scrape(controller);
        return scrape.contains("langconnect_deployment_replicas{component=\"langconnect\",environment=\"live\",namespace=\""
            + prodNs + "\",state=\"desired\"} 1.0")
            && scrape.contains("langconnect_backup_cronjob_created_timestamp_seconds{environment=\"live\"")
            && scrape.contains("langconnect_environment_info{cluster=\"second\",environment=\"live\",namespace=\""
            + prodNs + "\"} 1\n")
            && scrape.contains("langconnect_postgres_up{environment=\"qa\"");
      });
      assertThat(scrape(controller)).as("its database is not reached from here, so not probed")
          .doesNotContain("langconnect_postgres_up{environment=\"live\"")
          .doesNotContain("langconnect_api_up{environment=\"live\"");
    }
  }

  private static String scrape(Controller controller) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + "/metrics"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (java.io.IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aMoveAwayFromAnUnreachableClusterRunsHereAtOnceAndLeavesTheDatabaseThereUntilPruned() throws Exception {
    try (Controller controller = new Controller(vertx, here, config())) {
      controller.start().await();
      eventually("live synced there", () -> synced(controller, "live"));
      List<String> claims = claimUids(there, prodNs);

      cutOffTheSecondCluster();
      String move = repo.write("values-live.yaml", live(1).replace("cluster: second\n", ""))
          .commitAndPush("live moves here while the second cluster is unreachable");
      eventually("the move held", () -> controller.board().get("live")
          .map(s -> s.result() == EnvironmentStatus.Result.HELD && s.revision().equals(move)).orElse(false));
      new ControlStore(here, stateNs, new Retry(1, Duration.ZERO, Duration.ZERO))
          .confirmNewDatabase("live", prodNs + "/langconnect");
      eventually("live runs here, saying its old database is left there", () -> controller.board().get("live")
          .map(s -> s.result() == EnvironmentStatus.Result.SYNCED && s.revision().equals(move)
              && s.message().contains("no final backup on cluster second")
              && s.message().contains("its database on cluster second")).orElse(false)
          && replicas(here, prodNs).equals(Optional.of(1)));
      assertThat(inventory("live").getData()).as("the inventory says where it is now").containsEntry("cluster", "in-cluster");
      ConfigMap left = here.configMaps().inNamespace(stateNs).withName(InventoryStore.departedConfigMapName("live", "second"))
          .get();
      assertThat(left).as("and what it left there is recorded").isNotNull();

      proxy.heal();
      String scaled = repo.write("values-live.yaml", live(2).replace("cluster: second\n", ""))
          .commitAndPush("live scales here once the second cluster is back");
      eventually("synced again once the cluster is back", () -> synced(controller, "live", scaled));
      assertThat(replicas(there, prodNs)).as("its database there is not pruned unasked").isPresent();
      new ControlStore(here, stateNs, new Retry(1, Duration.ZERO, Duration.ZERO))
          .confirmPruneLeft("live", "second", left.getData().get("revision"));
      eventually("pruned there once confirmed", () -> synced(controller, "live")
          && replicas(there, prodNs).isEmpty()
          && here.configMaps().inNamespace(stateNs).withName(InventoryStore.departedConfigMapName("live", "second")).get() == null);
      assertThat(claimUids(there, prodNs)).as("the claims stay where the data is").isEqualTo(claims);
      assertThat(replicas(here, prodNs)).contains(2);
    }
  }
}
