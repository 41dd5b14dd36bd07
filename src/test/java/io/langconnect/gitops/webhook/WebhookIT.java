package io.langconnect.gitops.webhook;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Push webhooks into a running controller, against the local API server and git daemon. */
@ExtendWith(LocalControlPlane.class)
class WebhookIT {

  @TempDir
  Path tmp;

  private KubernetesClient admin;
  private ValuesRepo repo;
  private PodReadiness kubelet;
  private Vertx vertx;
  private Controller controller;
  private String stagingNs;
  private String prodNs;
  private String firstRevision;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void setUp(LocalControlPlane plane) throws Exception {
    admin = plane.admin();
    stagingNs = plane.uniqueNamespace("it-hook-staging");
    prodNs = plane.uniqueNamespace("it-hook-prod");
    String stateNs = plane.uniqueNamespace("it-hook-state");
    kubelet = PodReadiness.markReady(admin, "it-hook");
    repo = ValuesRepo.create(plane, tmp.resolve("work"));
    repo.write("envs/values.yaml", "langconnect:\n  image:\n    repository: registry.example.com/langconnect\n"
            + "postgres:\n  auth:\n    password: hook-password\n")
        .write("envs/values-staging.yaml", "namespace: " + stagingNs + "\n")
        .write("envs/values-prod.yaml", "namespace: " + prodNs + "\n");
    firstRevision = repo.commitAndPush("two environments");
    Path secret = Files.writeString(tmp.resolve("github-secret"), Payloads.SECRET + "\n");
    ControllerConfig config = ControllerConfig.defaults()
        .withGit(new ControllerConfig.Git(repo.gitUrl(), "main", "envs", Duration.ofHours(1), Duration.ofSeconds(5),
            tmp.resolve("clone").toString(), null))
        .withKubernetes(new ControllerConfig.Kubernetes(stateNs, null, false, null, null))
        .withSync(new ControllerConfig.Sync(Duration.ofHours(1), Duration.ofSeconds(60), 2, 5))
        .withHttp(new ControllerConfig.Http(0, "127.0.0.1", null))
        .withWebhooks(new ControllerConfig.Webhooks(new ControllerConfig.WebhookSecret(secret.toString(), null), null,
            null, new ControllerConfig.WebhookSecret(null, "PATH"), null, 64 * 1024)); // the default: a push polls at once
    vertx = Vertx.vertx();
    controller = new Controller(vertx, admin, config);
    controller.start().await();
    eventually(() -> controller.board().all().size() == 2
        && controller.board().all().stream().allMatch(s -> s.result() == EnvironmentStatus.Result.SYNCED));
  }

  @AfterEach
  void tearDown() {
    controller.close();
    vertx.close().await();
    kubelet.close();
    repo.close();
  }

  private HttpResponse<String> post(String provider, Map<String, String> headers, byte[] body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url("/webhook/" + provider)))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(request::header);
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String url(String path) {
    return "http://127.0.0.1:" + controller.httpPort() + path;
  }

  /** The spec's generation: moves only when someone changes the spec (status updates by controllers do not count). */
  private long deploymentGeneration(String ns) {
    return admin.apps().deployments().inNamespace(ns).withName("langconnect-langconnect").get()
        .getMetadata().getGeneration();
  }

  private double syncs(String env) {
    return controller.registry().find("langconnect.sync").tag("environment", env).counters().stream()
        .mapToDouble(Counter::count).sum();
  }

  @Test
  void signedPushSyncsOnlyTheEnvironmentItChanged() throws Exception {
    long prodBefore = deploymentGeneration(prodNs);
    double prodSyncs = syncs("prod");
    String after = repo.write("envs/values-staging.yaml", "namespace: " + stagingNs + "\nlangconnect:\n  replicaCount: 2\n")
        .commitAndPush("scale staging");
    byte[] body = Payloads.push("main", firstRevision, after, "envs/values-staging.yaml").getBytes(StandardCharsets.UTF_8);

    HttpResponse<String> response = post("github", Payloads.github("push", body), body);

    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(response.body()).contains("\"environments\":[\"staging\"]");
    eventually(() -> admin.apps().deployments().inNamespace(stagingNs).withName("langconnect-langconnect").get()
        .getSpec().getReplicas() == 2);
    eventually(() -> controller.registry().find("langconnect.webhook.to.sync.duration").tag("environment", "staging")
        .timer().count() == 1);
    assertThat(deploymentGeneration(prodNs)).isEqualTo(prodBefore);
    assertThat(syncs("prod")).isEqualTo(prodSyncs);
    assertThat(controller.registry().find("langconnect.webhook.requests").tag("provider", "github").tag("outcome", "queued")
        .counter().count()).isEqualTo(1.0);
  }

  @Test
  void aPushWhoseFetchFailsIsAppliedOnceGitAnswersAgainAndPollingGoesOn() throws Exception {
    String after = repo.write("envs/values-staging.yaml", "namespace: " + stagingNs + "\nlangconnect:\n  replicaCount: 2\n")
        .commitAndPush("scale staging");
    // The repository is gone from the git daemon for a moment (the soak stopped the daemon): the fetch fails.
    Path bare = Path.of(URI.create(repo.fileUrl()));
    Path away = bare.resolveSibling(bare.getFileName() + ".away");
    Files.move(bare, away);
    byte[] body = Payloads.push("main", firstRevision, after, "envs/values-staging.yaml").getBytes(StandardCharsets.UTF_8);
    assertThat(post("github", Payloads.github("push", body), body).statusCode()).isEqualTo(202);
    eventually("the fetch failed", () -> controller.registry().find("langconnect.git.fetch.duration").tag("result", "failure")
        .timer() != null && controller.registry().find("langconnect.git.fetch.duration").tag("result", "failure").timer().count() > 0);
    Files.move(away, bare);

    eventually("the push applied by the poll that retries", () -> admin.apps().deployments().inNamespace(stagingNs)
        .withName("langconnect-langconnect").get().getSpec().getReplicas() == 2);
    // And the poller goes on (the poll interval is an hour here: the retry's success schedules the next one).
    assertThat(controller.board().git().orElseThrow().lastError()).as("the error is cleared by the poll that worked")
        .isNull();
  }

  @Test
  void aClientThatResetsItsConnectionIsNoErrorOfTheController() throws Exception {
    try (io.langconnect.gitops.testenv.LogCapture logged = io.langconnect.gitops.testenv.LogCapture.start()) {
      // Half a request, then a reset (RST), as a client that gives up does: the soak saw Vert.x log it at ERROR.
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", controller.httpPort())) {
        socket.getOutputStream().write("POST /webhook/github HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
            .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        Thread.sleep(300);
        socket.setSoLinger(true, 0);
      }
      // And one that resets its kept-alive connection after a whole exchange.
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", controller.httpPort())) {
        socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        assertThat(new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
        socket.setSoLinger(true, 0);
      }
      Thread.sleep(1_000);
      assertThat(logged.text()).doesNotContain("ERROR");
      assertThat(http.send(HttpRequest.newBuilder(URI.create(url("/healthz"))).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode()).isEqualTo(200);
    }
  }

  @Test
  void webhookThatArrivesBeforeTheCommitIsVisibleWaitsForIt() throws Exception {
    // A host behind mirrors can deliver the webhook before the URL we fetch from has the commit.
    repo.write("envs/values-prod.yaml", "namespace: " + prodNs + "\nlangconnect:\n  replicaCount: 3\n");
    String after = repo.commitLocally("scale prod");
    byte[] body = Payloads.push("main", firstRevision, after, "envs/values-prod.yaml").getBytes(StandardCharsets.UTF_8);
    assertThat(post("github", Payloads.github("push", body), body).statusCode()).isEqualTo(202);
    Thread.sleep(700);
    repo.push();

    eventually(() -> admin.apps().deployments().inNamespace(prodNs).withName("langconnect-langconnect").get()
        .getSpec().getReplicas() == 3);
    eventually(() -> controller.board().get("prod").map(st -> st.revision().equals(after)).orElse(false));
  }

  /** A captured delivery sent again later (a replay) costs a fetch and moves no environment back to its commit. */
  @Test
  void aReplayedOldDeliveryMovesNothingBack() throws Exception {
    String scaled = repo.write("envs/values-prod.yaml", "namespace: " + prodNs + "\nlangconnect:\n  replicaCount: 2\n")
        .commitAndPush("scale prod");
    byte[] captured = Payloads.push("main", firstRevision, scaled, "envs/values-prod.yaml").getBytes(StandardCharsets.UTF_8);
    assertThat(post("github", Payloads.github("push", captured), captured).statusCode()).isEqualTo(202);
    String restored = repo.write("envs/values-prod.yaml", "namespace: " + prodNs + "\n").commitAndPush("back to one");
    byte[] latest = Payloads.push("main", scaled, restored, "envs/values-prod.yaml").getBytes(StandardCharsets.UTF_8);
    assertThat(post("github", Payloads.github("push", latest), latest).statusCode()).isEqualTo(202);
    eventually(() -> controller.board().get("prod").map(st -> st.revision().equals(restored)).orElse(false));

    assertThat(post("github", Payloads.github("push", captured), captured).statusCode()).isEqualTo(202);
    eventually("the replay's fetch", () -> controller.registry().find("langconnect.webhook.requests")
        .tag("provider", "github").tag("outcome", "queued").counter().count() == 3.0);
    Thread.sleep(1_500);
    assertThat(controller.board().get("prod").get().revision()).isEqualTo(restored);
    assertThat(admin.apps().deployments().inNamespace(prodNs).withName("langconnect-langconnect").get()
        .getSpec().getReplicas()).isEqualTo(1);
  }

  @Test
  void pingOtherBranchesBadSignaturesAndUnknownProvidersAreAnsweredAndIgnored() throws Exception {
    byte[] ping = "{\"zen\":\"Design for failure.\"}".getBytes(StandardCharsets.UTF_8);
    assertThat(post("github", Payloads.github("ping", ping), ping).statusCode()).isEqualTo(200);

    byte[] feature = Payloads.push("feature", firstRevision, "c".repeat(40), "envs/values-prod.yaml").getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> other = post("github", Payloads.github("push", feature), feature);
    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(other.body()).contains("ignored");

    byte[] body = Payloads.push("main", firstRevision, "d".repeat(40), "envs/values-prod.yaml").getBytes(StandardCharsets.UTF_8);
    Map<String, String> headers = Payloads.github("push", body);
    byte[] tampered = Payloads.push("main", firstRevision, "d".repeat(40), "envs/values.yaml").getBytes(StandardCharsets.UTF_8);
    assertThat(post("github", headers, tampered).statusCode()).isEqualTo(401);
    Map<String, String> unsigned = new java.util.HashMap<>(headers);
    unsigned.remove("X-Hub-Signature-256");
    assertThat(post("github", unsigned, body).statusCode()).isEqualTo(401);
    assertThat(post("gitlab", Payloads.gitlab(Payloads.SECRET), body).statusCode()).as("no secret: off").isEqualTo(404);
    assertThat(post("bitbucket", headers, body).statusCode()).isEqualTo(404);
    Map<String, String> xml = new java.util.HashMap<>(headers);
    xml.put("Content-Type", "text/plain");
    assertThat(post("github", xml, body).statusCode()).isEqualTo(415);
    assertThat(controller.board().get("prod").get().revision()).isEqualTo(firstRevision);
  }

  @Test
  void oversizedBodyIsRefusedWithoutReadingItWholeAndIsNoErrorOfTheController() throws Exception {
    try (io.langconnect.gitops.testenv.LogCapture logged = io.langconnect.gitops.testenv.LogCapture.start();
         Socket socket = new Socket("127.0.0.1", controller.httpPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /webhook/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "X-GitHub-Event: push\r\nContent-Length: 104857600\r\n\r\n{\"ref\":").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] head = new byte[12];
      int read = in.readNBytes(head, 0, 12);
      assertThat(new String(head, 0, read, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 413");
      // A stranger's oversized body is the stranger's mistake: Vert.x logged it as "Unhandled exception in router".
      Thread.sleep(500);
      assertThat(logged.text()).doesNotContain("ERROR");
    }
  }

  @Test
  void floodOfDeliveriesCollapsesAndTheControllerStaysResponsive() throws Exception {
    double stagingBefore = syncs("staging");
    double prodBefore = syncs("prod");
    String after = repo.write("envs/values.yaml", "langconnect:\n  replicaCount: 2\n  image:\n    repository: "
        + "registry.example.com/langconnect\npostgres:\n  auth:\n    password: hook-password\n").commitAndPush("both");
    byte[] body = Payloads.push("main", firstRevision, after, "envs/values.yaml").getBytes(StandardCharsets.UTF_8);
    Map<String, String> headers = Payloads.github("push", body);

    AtomicBoolean flooding = new AtomicBoolean(true);
    List<String> healthFailures = new CopyOnWriteArrayList<>();
    AtomicInteger healthChecks = new AtomicInteger();
    HttpClient prober = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    Thread health = new Thread(() -> {
      while (flooding.get()) {
        long start = System.nanoTime();
        try {
          HttpResponse<String> r = prober.send(HttpRequest.newBuilder(URI.create(url("/healthz")))
              .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() != 200) healthFailures.add("HTTP " + r.statusCode());
        } catch (Exception e) {
          healthFailures.add(e + " after " + (System.nanoTime() - start) / 1_000_000 + " ms");
        }
        healthChecks.incrementAndGet();
      }
    });
    health.start();
    // A burst as a forge sends it, from a pool of connections (64 in flight). 1000 sockets opened at once by
    // this same JVM starved both the controller and the prober of CPU on a two-core CI machine.
    Semaphore inFlight = new Semaphore(64);
    List<CompletableFuture<HttpResponse<Void>>> sent = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url("/webhook/github")))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      headers.forEach(request::header);
      inFlight.acquire();
      sent.add(http.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding())
          .whenComplete((response, error) -> inFlight.release()));
    }
    long accepted = sent.stream().map(CompletableFuture::join).filter(r -> r.statusCode() == 202).count();
    eventually(() -> controller.board().get("staging").map(s -> s.revision().equals(after)).orElse(false)
        && controller.board().get("prod").map(s -> s.revision().equals(after)).orElse(false));
    Thread.sleep(1_000);
    flooding.set(false);
    health.join();

    assertThat(accepted).isEqualTo(1000);
    assertThat(syncs("staging") - stagingBefore).isBetween(1.0, 2.0);
    assertThat(syncs("prod") - prodBefore).isBetween(1.0, 2.0);
    assertThat(healthChecks.get()).isPositive();
    assertThat(healthFailures).isEmpty();
  }
}
