package io.langconnect.gitops.sync;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.FaultProxy;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.LogCapture;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.langconnect.gitops.webhook.Payloads;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The whole controller (verticles, git poller, HTTP API, leader election) against the local control plane. */
@ExtendWith(LocalControlPlane.class)
class ControllerIT {

  @TempDir
  Path tmp;

  private LocalControlPlane plane;
  private KubernetesClient admin;
  private ValuesRepo repo;
  private PodReadiness kubelet;
  private String ns;
  private String stateNs;
  private Vertx vertx;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void setUp(LocalControlPlane plane) throws Exception {
    this.plane = plane;
    admin = plane.admin();
    ns = plane.uniqueNamespace("it-ctl");
    stateNs = plane.uniqueNamespace("it-ctl-state");
    kubelet = PodReadiness.markReady(admin, "it-ctl");
    repo = ValuesRepo.create(plane, tmp.resolve("work"));
    repo.write("values-dev.yaml", """
        namespace: %s
        langconnect:
          image:
            repository: registry.example.com/langconnect
            tag: "1.0.0"
        postgres:
          auth:
            password: dev-password
        """.formatted(ns)).commitAndPush("dev");
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    kubelet.close();
    repo.close();
    vertx.close().await();
  }

  private ControllerConfig config(String url, boolean leaderElection, Path tokenFile) {
    return new ControllerConfig(
        new ControllerConfig.Git(url, "main", ".", Duration.ofMillis(300), Duration.ofSeconds(5),
            tmp.resolve("clone-" + System.nanoTime()).toString(), null),
        new ControllerConfig.Kubernetes(stateNs, null, leaderElection, "it-lease", null),
        new ControllerConfig.Sync(Duration.ofMinutes(5), Duration.ofSeconds(60), 2, 5),
        new ControllerConfig.Http(0, "127.0.0.1", tokenFile == null ? null : tokenFile.toString()),
        null, null, null, null);
  }

  private HttpResponse<String> get(Controller controller, String path, String token) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + path))
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(Controller controller, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** When the controller's field manager last wrote the object (server-side apply records it in managedFields). */
  private static String ourLastWrite(Deployment deployment) {
    return deployment.getMetadata().getManagedFields().stream().filter(f -> "langconnect-gitops".equals(f.getManager()))
        .map(f -> f.getOperation() + "@" + f.getTime()).findFirst().orElse("never");
  }

  private Deployment langconnect() {
    return admin.apps().deployments().inNamespace(ns).withName("langconnect-langconnect").get();
  }

  @Test
  void pushedChangeIsLiveWithinAPollAndReportedByTheApi() throws Exception {
    Path token = Files.writeString(tmp.resolve("token"), "s3cret-token\n");
    try (Controller controller = new Controller(vertx, admin, config(repo.gitUrl(), false, token))) {
      controller.start().await();
      eventually("first sync", () -> controller.board().get("dev").map(s -> s.result() == EnvironmentStatus.Result.SYNCED).orElse(false));
      assertThat(get(controller, "/readyz").statusCode()).isEqualTo(200);

      String revision = repo.write("values-dev.yaml", """
          namespace: %s
          langconnect:
            replicaCount: 3
            image:
              repository: registry.example.com/langconnect
              tag: "1.0.1"
          postgres:
            auth:
              password: dev-password
          """.formatted(ns)).commitAndPush("release 1.0.1");
      eventually("revision applied", () -> langconnect() != null && langconnect().getSpec().getReplicas() == 3);
      assertThat(langconnect().getSpec().getTemplate().getSpec().getContainers().get(0).getImage()).endsWith(":1.0.1");
      eventually("status updated", () -> controller.board().get("dev").map(s -> s.revision().equals(revision)).orElse(false));

      JsonObject body = new JsonObject(get(controller, "/api/v1/environments/dev", "s3cret-token").body());
      assertThat(body.getString("namespace")).isEqualTo(ns);
      assertThat(body.getString("revision")).isEqualTo(revision);
      assertThat(body.getString("result")).isEqualTo("Synced");
      assertThat(body.getJsonArray("objects").stream().map(o -> ((JsonObject) o).getString("name") + ":"
          + ((JsonObject) o).getString("action")).toList()).contains("langconnect-langconnect:configured",
          "langconnect-postgres:unchanged");
      assertThat(get(controller, "/api/v1/environments/nope", "s3cret-token").statusCode()).isEqualTo(404);

      String metrics = get(controller, "/metrics").body();
      assertThat(metrics).contains("langconnect_sync_total{environment=\"dev\",result=\"synced\"}")
          .contains("langconnect_sync_duration_seconds_bucket").contains("langconnect_git_fetch_duration_seconds_count")
          .contains("langconnect_objects_applied_total").contains("langconnect_sync_last_success_timestamp_seconds");

      HttpResponse<String> unauthorized = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + controller.httpPort() + "/api/v1/environments/dev/sync"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(unauthorized.statusCode()).isEqualTo(401);
      HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + controller.httpPort() + "/api/v1/environments/dev/sync"))
          .header("Authorization", "Bearer s3cret-token").POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(accepted.statusCode()).isEqualTo(202);
    }
  }

  @Test
  void idlePollsFetchNothingAndWriteNothing() throws Exception {
    try (Controller controller = new Controller(vertx, admin, config(repo.gitUrl(), false, null))) {
      controller.start().await();
      eventually("first sync", () -> controller.board().get("dev").map(s -> s.result() == EnvironmentStatus.Result.SYNCED).orElse(false));
      // Controllers update the Deployment's status on their own; what must not move is what we wrote.
      String written = ourLastWrite(langconnect());
      long generation = langconnect().getMetadata().getGeneration();
      long fetches = controller.registry().find("langconnect.git.fetch.duration").tag("result", "success").timer().count();
      eventually("five idle polls", () -> {
        var polls = controller.registry().find("langconnect.git.poll.duration").tag("outcome", "unchanged").timer();
        return polls != null && polls.count() >= 5;
      });
      assertThat(controller.registry().find("langconnect.git.fetch.duration").tag("result", "success").timer().count()).isEqualTo(fetches);
      assertThat(langconnect().getMetadata().getGeneration()).isEqualTo(generation);
      assertThat(ourLastWrite(langconnect())).isEqualTo(written);
    }
  }

  @Test
  void unreachableGitIsRetriedWithBackoffAndReportedWhileNothingIsTouched() throws Exception {
    try (Controller controller = new Controller(vertx, admin,
        config("git://127.0.0.1:1/nothing-listens-here.git", false, null))) {
      controller.start().await();
      eventually("git error reported", () -> controller.board().git().map(g -> g.lastError() != null).orElse(false));
      assertThat(controller.board().git().get().lastError()).contains("git ls-remote git://127.0.0.1:1/");
      assertThat(get(controller, "/readyz").statusCode()).isEqualTo(503);
      assertThat(new JsonObject(get(controller, "/api/v1/environments").body()).getJsonObject("git")
          .getString("lastError")).contains("failed");
      assertThat(controller.board().all()).isEmpty();
      assertThat(admin.namespaces().withName(ns).get()).isNull();
    }
  }

  @Test
  void ofTwoReplicasOnlyTheLeaderSyncs() throws Exception {
    try (Controller first = new Controller(vertx, admin, config(repo.gitUrl(), true, null));
         Controller second = new Controller(vertx, admin, config(repo.gitUrl(), true, null))) {
      first.start().await();
      second.start().await();
      eventually("a leader", () -> first.board().leader() || second.board().leader());
      eventually("dev synced", () -> langconnect() != null);
      Thread.sleep(2_000);
      List<Controller> leaders = List.of(first, second).stream().filter(c -> c.board().leader()).toList();
      assertThat(leaders).hasSize(1);
      Controller follower = leaders.get(0) == first ? second : first;
      assertThat(follower.board().all()).isEmpty();
      // Through the Service a client may reach either replica: the standby answers the status API from the leader.
      eventually("the standby passes the status API on", () -> {
        try {
          HttpResponse<String> dev = get(follower, "/api/v1/environments/dev");
          return dev.statusCode() == 200 && ns.equals(new JsonObject(dev.body()).getString("namespace"));
        } catch (Exception e) {
          return false;
        }
      });
      assertThat(get(follower, "/healthz").statusCode()).isEqualTo(200);
      // The databases are observed by the leader alone: a standby queries none and exports no observed series.
      String postgresUp = "langconnect_postgres_up{environment=\"dev\"";
      eventually("the leader observes dev's database", () -> metrics(leaders.get(0)).contains(postgresUp));
      HttpResponse<String> standbyMetrics = get(follower, "/metrics");
      assertThat(standbyMetrics.statusCode()).isEqualTo(200);
      assertThat(standbyMetrics.body()).doesNotContain("langconnect_postgres_up{").doesNotContain("langconnect_deployment_replicas{");
      assertThat(admin.leases().inNamespace(stateNs).withName("it-lease").get().getSpec().getHolderIdentity()).isNotBlank();

      // The leader goes away (an upgrade, a crash): the other replica takes the Lease and carries on syncing.
      leaders.get(0).close();
      eventually("the follower leads", () -> follower.board().leader());
      // It observes at once, not a whole cycle (30 s) after taking the Lease.
      eventually("the new leader observes dev's database", Duration.ofSeconds(10),
          () -> metrics(follower).contains(postgresUp));
      repo.write("values-dev.yaml", """
          namespace: %s
          langconnect:
            replicaCount: 2
            image:
              repository: registry.example.com/langconnect
              tag: "1.0.0"
          postgres:
            auth:
              password: dev-password
          """.formatted(ns)).commitAndPush("scale after failover");
      eventually("the new leader applied it", () -> langconnect().getSpec().getReplicas() == 2);
    }
  }

  @Test
  void theStandbyIsReadyAndHandsAWebhookToTheLeader() throws Exception {
    Path secret = Files.writeString(tmp.resolve("github-secret"), Payloads.SECRET);
    // Polls an hour apart: only the webhook can bring the commit in during the test.
    ControllerConfig.Webhooks github = new ControllerConfig.Webhooks(
        new ControllerConfig.WebhookSecret(secret.toString(), null), null, null, null, Duration.ofMillis(200), 64 * 1024);
    try (Controller first = new Controller(vertx, admin, hourlyPolls().withWebhooks(github));
         Controller second = new Controller(vertx, admin, hourlyPolls().withWebhooks(github))) {
      Controller leader = startAndAwaitTheLeadersSync(first, second);
      Controller standby = leader == first ? second : first;
      eventually("both replicas ready, the standby too", () -> status(first, "/readyz") == 200 && status(second, "/readyz") == 200);

      String before = leader.board().get("dev").get().revision();
      String after = repo.write("values-dev.yaml", """
          namespace: %s
          langconnect:
            replicaCount: 3
            image:
              repository: registry.example.com/langconnect
              tag: "1.0.0"
          postgres:
            auth:
              password: dev-password
          """.formatted(ns)).commitAndPush("scale to 3");
      byte[] body = Payloads.push("main", before, after, "values-dev.yaml").getBytes(StandardCharsets.UTF_8);
      HttpRequest.Builder delivery = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + standby.httpPort()
          + "/webhook/github")).POST(HttpRequest.BodyPublishers.ofByteArray(body));
      Payloads.github("push", body).forEach(delivery::header);
      HttpResponse<String> response = http.send(delivery.build(), HttpResponse.BodyHandlers.ofString());

      assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
      assertThat(new JsonObject(response.body()).getString("status")).isEqualTo("handed-off");
      eventually("the leader synced the push the standby received", () -> langconnect().getSpec().getReplicas() == 3
          && leader.board().get("dev").map(s -> s.revision().equals(after)).orElse(false));
    }
  }

  /** Leader election on, and polls an hour apart; each call has its own clone folder. */
  @Test
  void aStandbyNeverSendsTheCallersTokenOnwardButStillServesTheApiFromTheLeader() throws Exception {
    Path token = Files.writeString(tmp.resolve("api-token"), "the-api-token\n");
    // Whoever can write the leader ConfigMap chooses where a standby sends requests: here, a listener of the test's.
    List<io.vertx.core.MultiMap> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    io.vertx.core.http.HttpServer lookAlike = vertx.createHttpServer().requestHandler(request -> {
      received.add(io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(request.headers()));
      request.response().putHeader("Content-Type", "application/json").end("{}");
    }).listen(0, "127.0.0.1").await();
    ControllerConfig withToken = hourlyPolls().withHttp(new ControllerConfig.Http(0, "127.0.0.1", token.toString()));
    try (Controller first = new Controller(vertx, admin, withToken);
         Controller second = new Controller(vertx, admin, withToken)) {
      Controller leader = startAndAwaitTheLeadersSync(first, second);
      Controller standby = leader == first ? second : first;
      eventually("the standby serves the leader's status", () -> {
        try {
          HttpResponse<String> dev = get(standby, "/api/v1/environments/dev", "the-api-token");
          return dev.statusCode() == 200 && ns.equals(new JsonObject(dev.body()).getString("namespace"));
        } catch (Exception e) {
          return false;
        }
      });
      // A write through the standby reaches the leader, vouched for by the standby's signature.
      HttpResponse<String> suspend = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + standby.httpPort()
              + "/api/v1/environments/dev/suspend")).header("Authorization", "Bearer the-api-token")
          .POST(HttpRequest.BodyPublishers.ofString("{\"reason\": \"through the standby\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(suspend.statusCode()).as(suspend.body()).isEqualTo(202);
      eventually("suspended by the leader", () -> leader.board().get("dev")
          .map(s -> s.result() == EnvironmentStatus.Result.SUSPENDED).orElse(false));
      assertThat(get(standby, "/api/v1/environments/dev").statusCode()).as("no token, nothing passed on").isEqualTo(401);

      admin.configMaps().inNamespace(stateNs).withName("it-lease-leader").edit(cm -> {
        cm.getData().put("apiUrl", "http://127.0.0.1:" + lookAlike.actualPort());
        return cm;
      });
      eventually("the standby now sends to the look-alike", () -> {
        try {
          get(standby, "/api/v1/environments/dev", "the-api-token");
        } catch (Exception e) {
          return false;
        }
        return !received.isEmpty();
      });
      http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + standby.httpPort()
              + "/api/v1/environments/dev/resume")).header("Authorization", "Bearer the-api-token")
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(received).hasSizeGreaterThanOrEqualTo(2).allSatisfy(headers -> {
        assertThat(headers.get("Authorization")).as("the caller's credential").isNull();
        assertThat(String.join(" ", headers.names().stream().map(headers::get).toList())).doesNotContain("the-api-token");
      });
    } finally {
      lookAlike.close().await();
    }
  }

  /**
   * Closing waits for a git fetch in flight: before, the fetch went on writing into the clone after close returned
   * (once seen as MultiClusterIT's temporary folder that could not be deleted).
   */
  @Test
  void closingWaitsForTheFetchInFlightSoNothingWritesTheCloneAfterwards() throws Exception {
    URI daemon = URI.create(repo.gitUrl());
    try (io.langconnect.gitops.testenv.TcpProxy slow = io.langconnect.gitops.testenv.TcpProxy.start(vertx,
        daemon.getHost(), daemon.getPort(), Duration.ofSeconds(1))) {
      String url = "git://127.0.0.1:" + slow.port() + daemon.getPath();
      Path clone = tmp.resolve("slow-clone");
      ControllerConfig config = config(url, false, null).withGit(new ControllerConfig.Git(url, "main", ".",
          Duration.ofMillis(300), Duration.ofSeconds(10), clone.toString(), null));
      Controller controller = new Controller(vertx, admin, config);
      controller.start().await();
      Thread.sleep(300); // its first poll waits on the slow connection
      controller.close();
      String closed = listing(clone);
      Thread.sleep(3_000);
      assertThat(listing(clone)).as("the clone after close").isEqualTo(closed);
    }
  }

  private static String listing(Path dir) throws java.io.IOException {
    if (!Files.exists(dir)) return "";
    try (var files = Files.walk(dir)) {
      return files.sorted().map(file -> file + " " + file.toFile().length()).collect(java.util.stream.Collectors.joining("\n"));
    }
  }

  /**
   * Slow clients cannot hold the controller's connections: one that stops sending within a request, and one that
   * sends nothing at all, are disconnected after http.idleTimeout (before, both stayed open for good).
   */
  @Test
  void clientsThatStallAreDisconnectedAfterTheIdleTimeout() throws Exception {
    Path token = Files.writeString(tmp.resolve("idle-token"), "idle-token\n");
    ControllerConfig config = config(repo.gitUrl(), false, token)
        .withHttp(new ControllerConfig.Http(0, "127.0.0.1", token.toString(), Duration.ofSeconds(1)));
    try (Controller controller = new Controller(vertx, admin, config)) {
      controller.start().await();
      try (java.net.Socket stalled = new java.net.Socket("127.0.0.1", controller.httpPort());
           java.net.Socket silent = new java.net.Socket("127.0.0.1", controller.httpPort())) {
        stalled.setSoTimeout(15_000);
        silent.setSoTimeout(15_000);
        // Headers, then one byte of a body of 1,000: the body handler waits for the rest.
        stalled.getOutputStream().write(("POST /api/v1/environments/dev/suspend HTTP/1.1\r\nHost: controller\r\n"
            + "Authorization: Bearer idle-token\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        stalled.getOutputStream().flush();
        assertThat(stalled.getInputStream().read()).as("closed without an answer").isEqualTo(-1);
        assertThat(silent.getInputStream().read()).as("closed without an answer").isEqualTo(-1);
      }
      assertThat(controller.board().get("dev").flatMap(EnvironmentStatus::suspension)).isEmpty();
    }
  }

  /**
   * A client that keeps asking is not idle: Java's HttpClient (HTTP/2 by default: an h2c upgrade on plain http) asks
   * every 100 ms for three idle timeouts, on one connection, and is never cut off.
   */
  @Test
  void aClientThatKeepsAskingIsNotCutOffByTheIdleTimeout() throws Exception {
    Path token = Files.writeString(tmp.resolve("busy-token"), "busy-token\n");
    ControllerConfig config = config(repo.gitUrl(), false, token)
        .withHttp(new ControllerConfig.Http(0, "127.0.0.1", token.toString(), Duration.ofSeconds(1)));
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    try (Controller controller = new Controller(vertx, admin, config)) {
      controller.start().await();
      URI metrics = URI.create("http://127.0.0.1:" + controller.httpPort() + "/metrics");
      long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
      while (System.nanoTime() < until) {
        assertThat(client.send(java.net.http.HttpRequest.newBuilder(metrics).build(),
            java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
        Thread.sleep(100);
      }
    }
  }

  @Test
  void jsonLogsAreOneObjectPerLineNamingEnvironmentAndRevisionAndNoSecret() throws Exception {
    Path token = Files.writeString(tmp.resolve("api-token"), "json-log-token\n");
    io.langconnect.gitops.controller.LogFormat.use(new ControllerConfig.Logging("json"));
    try (LogCapture log = LogCapture.start();
         Controller controller = new Controller(vertx, admin, config(repo.gitUrl(), false, token))) {
      controller.start().await();
      eventually("dev synced", () -> controller.board().get("dev")
          .map(s -> s.result() == EnvironmentStatus.Result.SYNCED).orElse(false));
      String revision = controller.board().get("dev").get().revision();
      assertThat(get(controller, "/api/v1/environments", "json-log-token").statusCode()).isEqualTo(200);
      List<JsonObject> lines = log.text().lines().filter(line -> !line.isBlank()).map(JsonObject::new).toList();
      assertThat(lines).isNotEmpty().allSatisfy(line -> assertThat(line.fieldNames())
          .contains("timestamp", "level", "loggerName", "formattedMessage"));
      assertThat(lines).anySatisfy(line -> {
        assertThat(line.getString("loggerName")).endsWith("SyncService");
        assertThat(line.getJsonObject("mdc").getMap()).containsEntry("environment", "dev")
            .containsEntry("revision", revision).containsEntry("cluster", "in-cluster");
      });
      assertThat(log.text()).doesNotContain("dev-password").doesNotContain("json-log-token");
    } finally {
      io.langconnect.gitops.controller.LogFormat.use(new ControllerConfig.Logging("text"));
    }
  }

  /** Starts both replicas and returns the one that took the Lease, once it synced dev. */
  private static Controller startAndAwaitTheLeadersSync(Controller first, Controller second) throws Exception {
    first.start().await();
    second.start().await();
    eventually("dev synced by the leader", () -> List.of(first, second).stream().anyMatch(c -> c.board().get("dev")
        .map(s -> s.result() == EnvironmentStatus.Result.SYNCED).orElse(false)));
    return first.board().leader() ? first : second;
  }

  private ControllerConfig hourlyPolls() {
    return config(repo.gitUrl(), true, null).withGit(new ControllerConfig.Git(repo.gitUrl(), "main", ".",
        Duration.ofHours(1), Duration.ofSeconds(5), tmp.resolve("clone-" + System.nanoTime()).toString(), null));
  }

  private int status(Controller controller, String path) {
    try {
      return get(controller, path).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  @Test
  void aNewEnvironmentsSyncWritesItsNamespaceObjectsAndInventoryAndReadsNothing() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(plane);
         KubernetesClient counted = plane.client(proxy.url(), plane.adminToken());
         Controller controller = new Controller(vertx, counted, config(repo.gitUrl(), false, null)
             .withObserve(new ControllerConfig.Observe(false, null, null, null, null)))) {
      controller.start().await();
      eventually("dev synced and Ready", () -> controller.board().get("dev")
          .map(s -> s.result() == EnvironmentStatus.Result.SYNCED && s.health().ready()).orElse(false));
      String qa = plane.uniqueNamespace("it-ctl-qa");
      int before = proxy.requests().size();
      String revision = repo.write("values-qa.yaml", """
          namespace: %s
          langconnect:
            image:
              repository: registry.example.com/langconnect
          postgres:
            auth:
              password: qa-password
          """.formatted(qa)).commitAndPush("qa");
      eventually("qa synced and Ready", () -> controller.board().get("qa").map(s -> s.revision().equals(revision)
          && s.result() == EnvironmentStatus.Result.SYNCED && s.health().ready()).orElse(false));

      // Its live state, inventory and controls come from the watches: one request per object written (five: the
      // StatefulSet's claim comes from its template), its namespace looked for and made, its inventory written.
      List<String> qaRequests = proxy.requests().subList(before, proxy.requests().size()).stream()
          .filter(r -> !r.endsWith("(watch)"))
          .filter(r -> r.contains("/namespaces/" + qa + "/") || r.endsWith("/namespaces/" + qa)
              || r.equals("POST /api/v1/namespaces")
              || r.contains("/configmaps/inventory-qa") || r.contains("/configmaps/control-qa")
              || r.equals("POST /api/v1/namespaces/" + stateNs + "/configmaps"))
          .collect(java.util.stream.Collectors.toCollection(java.util.ArrayList::new));
      // An Event (qa turning Degraded for a moment, before its pods are marked Ready) is health's, not the sync's:
      // each is a look at the namespace and a POST.
      long events = qaRequests.stream().filter(r -> r.endsWith("/namespaces/" + qa + "/events")).count();
      qaRequests.removeIf(r -> r.endsWith("/namespaces/" + qa + "/events"));
      for (long i = 0; i < events; i++) qaRequests.remove("GET /api/v1/namespaces/" + qa);
      assertThat(qaRequests).as("the requests of qa's first sync").containsExactlyInAnyOrder(
          "GET /api/v1/namespaces/" + qa,
          "POST /api/v1/namespaces",
          "PATCH /api/v1/namespaces/" + qa + "/secrets/langconnect-postgres",
          "PATCH /api/v1/namespaces/" + qa + "/services/langconnect-postgres",
          "PATCH /apis/apps/v1/namespaces/" + qa + "/statefulsets/langconnect-postgres",
          "PATCH /api/v1/namespaces/" + qa + "/services/langconnect-langconnect",
          "PATCH /apis/apps/v1/namespaces/" + qa + "/deployments/langconnect-langconnect",
          "POST /api/v1/namespaces/" + stateNs + "/configmaps");
    }
  }

  @Test
  void aSyncInterruptedByShutdownIsOneInfoLineAndTheNextLeaderCarriesOn() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(plane);
         KubernetesClient slow = plane.client(proxy.url(), plane.adminToken());
         LogCapture log = LogCapture.start()) {
      // The first apply hangs, so the controller stops while a sync is in the middle of it. (Not a read: the sync
      // reads its inventory and controls from the state namespace's watch.)
      proxy.inject(1, FaultProxy.request("PATCH", "/secrets/langconnect-postgres"),
          FaultProxy.Fault.delay(Duration.ofSeconds(20)));
      Controller stopping = new Controller(vertx, slow, config(repo.gitUrl(), false, null));
      stopping.start().await();
      eventually("the sync reached its first apply", () -> proxy.injectedCount() == 1);
      stopping.close();

      eventually("the interrupted sync's line", () -> log.text().contains("sync of dev interrupted"));
      assertThat(log.text()).doesNotContain("crashed").doesNotContain(" ERROR ");
      try (Controller next = new Controller(vertx, admin, config(repo.gitUrl(), false, null))) {
        next.start().await();
        eventually("the next controller synced", () -> next.board().get("dev")
            .map(s -> s.result() == EnvironmentStatus.Result.SYNCED).orElse(false));
      }
    }
  }

  @Test
  void anEmptyApiTokenFileStopsTheStartInsteadOfOpeningTheApiToEveryone() throws Exception {
    Path token = Files.writeString(tmp.resolve("empty-token"), " \n");
    try (Controller controller = new Controller(vertx, admin, config("http://127.0.0.1:1/values.git", false, token))) {
      org.assertj.core.api.Assertions.assertThatThrownBy(controller::start)
          .isInstanceOf(io.langconnect.gitops.config.ConfigLoader.ConfigException.class)
          .hasMessage("http.apiTokenFile: " + token + " is empty; expected a file holding the bearer token (e.g."
              + " `openssl rand -hex 32`): an empty token would open the API to everyone");
    }
  }

  @Test
  void credentialsInTheRepositoryUrlAreNeverShownAndTheStatusApiAsksForTheToken() throws Exception {
    Path token = Files.writeString(tmp.resolve("api-token"), "api-token\n");
    String url = "http://s3cret-git-token:x-oauth-basic@127.0.0.1:1/values.git";
    try (LogCapture log = LogCapture.start();
         Controller controller = new Controller(vertx, admin, config(url, false, token))) {
      controller.start().await();
      eventually("the git error", () -> controller.board().git().map(g -> g.lastError() != null).orElse(false));

      assertThat(get(controller, "/api/v1/environments").statusCode()).isEqualTo(401);
      assertThat(get(controller, "/api/v1/environments/dev").statusCode()).isEqualTo(401);
      HttpResponse<String> status = get(controller, "/api/v1/environments", "api-token");
      assertThat(status.statusCode()).isEqualTo(200);
      JsonObject git = new JsonObject(status.body()).getJsonObject("git");
      assertThat(git.getString("url")).isEqualTo("http://***@127.0.0.1:1/values.git");
      assertThat(git.getString("lastError")).contains("http://***@127.0.0.1:1/values.git");
      assertThat(status.body()).doesNotContain("s3cret-git-token");
      // Probes and Prometheus need no token.
      assertThat(get(controller, "/healthz").statusCode()).isEqualTo(200);
      assertThat(get(controller, "/readyz").statusCode()).isEqualTo(503);
      HttpResponse<String> metrics = get(controller, "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).doesNotContain("s3cret-git-token");
      assertThat(log.text()).contains("http://***@127.0.0.1:1/values.git").doesNotContain("s3cret-git-token");
    }
  }

  private String metrics(Controller controller) {
    try {
      return get(controller, "/metrics").body();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private HttpResponse<String> post(Controller controller, String path, String token, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + path))
        .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void suspendAndResumeThroughTheApiAndTheCliWhileGetFollowsHealth() throws Exception {
    Path token = Files.writeString(tmp.resolve("token"), "op-token\n");
    ControllerConfig base = config(repo.gitUrl(), true, token);
    ControllerConfig config = base.withSync(new ControllerConfig.Sync(Duration.ofHours(1), Duration.ofSeconds(60), 2, 5,
        Duration.ofMillis(500), Duration.ofMinutes(1)));
    try (Controller controller = new Controller(vertx, admin, config)) {
      controller.start().await();
      String server = "http://127.0.0.1:" + controller.httpPort();
      eventually("Ready: synced and rolled out", () -> controller.board().get("dev").map(EnvironmentStatus::ready).orElse(false));
      io.langconnect.gitops.cli.CliTest.Run ready = io.langconnect.gitops.cli.CliTest.run("get", "--server", server,
          "--token-file", token.toString());
      assertThat(ready.exit()).isZero();
      assertThat(ready.out()).startsWith("NAME").containsPattern("dev +in-cluster +True +False +[0-9a-f]{12} +\\d+s +2 workload\\(s\\)"
          + " rolled out and available");

      HttpResponse<String> suspended = post(controller, "/api/v1/environments/dev/suspend", "op-token",
          "{\"reason\": \"incident 42\", \"by\": \"oncall\"}");
      assertThat(suspended.statusCode()).isEqualTo(202);
      // The leader watches the controls: the suspension shows at once, not at the next drift check an hour away.
      eventually("suspended", () -> controller.board().get("dev").map(s -> s.result() == EnvironmentStatus.Result.SUSPENDED)
          .orElse(false));
      eventually("exported", () -> metrics(controller)
          .contains("langconnect_environment_suspended{environment=\"dev\"} 1.0"));

      String revision = repo.write("values-dev.yaml", """
          namespace: %s
          langconnect:
            replicaCount: 2
            image:
              repository: registry.example.com/langconnect
              tag: "1.0.0"
          postgres:
            auth:
              password: dev-password
          """.formatted(ns)).commitAndPush("scale while suspended");
      eventually("git is still read", () -> controller.board().get("dev").map(s -> s.revision().equals(revision)).orElse(false));
      JsonObject status = new JsonObject(get(controller, "/api/v1/environments/dev", "op-token").body());
      assertThat(status.getString("result")).isEqualTo("Suspended");
      assertThat(status.getJsonObject("suspended").getString("by")).isEqualTo("oncall");
      assertThat(status.getJsonObject("suspended").getString("reason")).isEqualTo("incident 42");
      assertThat(status.getString("message")).contains("nothing applied: would have created 0, configured 1");
      assertThat(langconnect().getSpec().getReplicas()).isEqualTo(1);
      io.langconnect.gitops.cli.CliTest.Run whileSuspended = io.langconnect.gitops.cli.CliTest.run("get", "--server",
          server, "--token-file", token.toString());
      assertThat(whileSuspended.exit()).isEqualTo(1);
      assertThat(whileSuspended.out()).containsPattern("dev +in-cluster +False +True ");
      assertThat(post(controller, "/api/v1/environments/dev/prune", "op-token", "").statusCode())
          .as("nothing held to confirm").isEqualTo(409);

      // Resumed from the CLI (it writes to the cluster; it works while the controller is down too): synced at once.
      io.langconnect.gitops.cli.CliTest.Run resume = io.langconnect.gitops.cli.CliTest.run("resume", "--env", "dev",
          "--kubeconfig", plane.kubeconfig(), "--state-namespace", stateNs);
      assertThat(resume.exit()).as(resume.err()).isZero();
      eventually("applied once resumed", () -> langconnect().getSpec().getReplicas() == 2);
      eventually("exported", () -> metrics(controller)
          .contains("langconnect_environment_suspended{environment=\"dev\"} 0.0"));

      io.langconnect.gitops.cli.CliTest.Run typo = io.langconnect.gitops.cli.CliTest.run("suspend", "--env", "dve",
          "--kubeconfig", plane.kubeconfig(), "--state-namespace", stateNs);
      assertThat(typo.exit()).isEqualTo(2);
      assertThat(typo.err()).isEqualTo("error: --env dve: no such environment in the cluster (no inventory in " + stateNs
          + "); expected one of: dev\n");
    }
  }

  @Test
  void driftIsCorrectedWithinSecondsThroughTheWatchesEvenAfterTheyAreCut() throws Exception {
    ControllerConfig base = config(repo.gitUrl(), false, null);
    // The full re-check an hour away: only the watches can bring the drift in during the test.
    ControllerConfig config = base.withSync(new ControllerConfig.Sync(Duration.ofHours(1), Duration.ofSeconds(60), 2, 5));
    try (FaultProxy proxy = FaultProxy.start(plane);
         KubernetesClient client = plane.client(proxy.url(), plane.adminToken());
         Controller controller = new Controller(vertx, client, config)) {
      controller.start().await();
      eventually("first sync", () -> controller.board().get("dev").map(s -> s.result() == EnvironmentStatus.Result.SYNCED)
          .orElse(false));
      Thread.sleep(1_000); // the informers' first lists

      admin.apps().statefulSets().inNamespace(ns).withName("langconnect-postgres").scale(3);
      eventually("scaled back by the watch", Duration.ofSeconds(15),
          () -> admin.apps().statefulSets().inNamespace(ns).withName("langconnect-postgres").get().getSpec().getReplicas() == 1);

      // The connections cut, as an API server restart does: the informers list and watch again by themselves.
      proxy.cutAll();
      Thread.sleep(2_000);
      var service = admin.services().inNamespace(ns).withName("langconnect-langconnect");
      String deleted = service.get().getMetadata().getUid();
      service.delete();
      eventually("recreated after the cut", Duration.ofSeconds(20),
          () -> service.get() != null && !service.get().getMetadata().getUid().equals(deleted));
      assertThat(controller.board().get("dev").get().driftCorrections()).as("the scale; a re-created object is 'created'")
          .isGreaterThanOrEqualTo(1);

      // Its own applies are not drift: once corrected, nothing more is written.
      Thread.sleep(2_000);
      int writes = proxy.writeCount();
      Thread.sleep(3_000);
      assertThat(proxy.writeCount()).as("no write after the correction").isEqualTo(writes);
    }
  }
}
