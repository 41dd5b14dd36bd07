package io.langconnect.gitops.notify;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.langconnect.gitops.webhook.Signatures;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Transitions told to a team's webhook: a local receiver that checks the signature as Flux's generic-hmac ones do. */
@ExtendWith(LocalControlPlane.class)
class NotificationWebhookIT {

  private static final String SECRET = "receiver-hmac-secret";
  private static final String PASSWORD = "notify-password";

  @TempDir
  Path tmp;

  private KubernetesClient admin;
  private PodReadiness kubelet;
  private Vertx vertx;
  private HttpServer receiver;
  private Controller controller;
  private ValuesRepo repo;
  private String stagingNs;
  /** What the receiver accepted, in order: (signature header, body); requests counts every request, refused ones too. */
  private final List<String[]> accepted = new CopyOnWriteArrayList<>();
  private final AtomicInteger requests = new AtomicInteger();
  /** The receiver answers the next request 503, as one down for a moment: the delivery must come again, once. */
  private final java.util.concurrent.atomic.AtomicBoolean refuseNext = new java.util.concurrent.atomic.AtomicBoolean();

  @BeforeEach
  void setUp(LocalControlPlane plane) throws Exception {
    admin = plane.admin();
    stagingNs = plane.uniqueNamespace("it-notify-staging");
    String stateNs = plane.uniqueNamespace("it-notify-state");
    kubelet = PodReadiness.markReady(admin, "it-notify");
    vertx = Vertx.vertx();
    receiver = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      requests.incrementAndGet();
      if (refuseNext.getAndSet(false)) {
        request.response().setStatusCode(503).end();
        return;
      }
      accepted.add(new String[] {request.getHeader("X-Signature"), body.toString(StandardCharsets.UTF_8)});
      request.response().setStatusCode(204).end();
    })).listen(0, "127.0.0.1").await();
    repo = ValuesRepo.create(plane, tmp.resolve("work"));
    repo.write("values.yaml", "langconnect:\n  image:\n    repository: registry.example.com/langconnect\n"
            + "postgres:\n  auth:\n    password: " + PASSWORD + "\n")
        .write("values-staging.yaml", "namespace: " + stagingNs + "\n")
        .commitAndPush("staging");
    Path secret = Files.writeString(tmp.resolve("receiver-secret"), SECRET + "\n");
    ControllerConfig config = ControllerConfig.defaults()
        .withGit(new ControllerConfig.Git(repo.gitUrl(), "main", ".", Duration.ofMillis(300), Duration.ofSeconds(5),
            tmp.resolve("clone").toString(), null))
        .withKubernetes(new ControllerConfig.Kubernetes(stateNs, null, false, null, null))
        .withSync(new ControllerConfig.Sync(Duration.ofHours(1), Duration.ofSeconds(60), 2, 5))
        .withHttp(new ControllerConfig.Http(0, "127.0.0.1", null))
        .withNotifications(new ControllerConfig.Notifications(null, List.of(new ControllerConfig.NotificationWebhook(
            "ops", "http://127.0.0.1:" + receiver.actualPort() + "/hooks", "generic", secret.toString(), null))));
    controller = new Controller(vertx, admin, config);
    controller.start().await();
  }

  @AfterEach
  void tearDown() {
    controller.close();
    vertx.close().await();
    kubelet.close();
    repo.close();
  }

  private boolean staging(java.util.function.Predicate<EnvironmentStatus> condition) {
    return controller.board().get("staging").filter(condition).isPresent();
  }

  @Test
  void aFailureAndTheRecoveryAreEachPostedOnceSignedAndWithoutSecrets() throws Exception {
    eventually("staging Ready", () -> staging(EnvironmentStatus::ready));
    // On its way to its first Ready a new environment may be told degraded and recovered (its pods wait for a
    // moment on the test node's taint): what follows counts from here.
    Thread.sleep(1_500);
    List<String[]> before = List.copyOf(accepted);
    accepted.clear();
    int requestsBefore = requests.get();
    assertThat(before).hasSizeLessThanOrEqualTo(2);
    refuseNext.set(true);

    String broken = repo.write("values-staging.yaml", "namespace: " + stagingNs + "\npostgres:\n  persistence:\n"
        + "    size: lots\n").commitAndPush("a mistake");
    eventually("the failure told, after the receiver's 503", Duration.ofSeconds(30), () -> accepted.size() == 1);
    String fixed = repo.write("values-staging.yaml", "namespace: " + stagingNs + "\n").commitAndPush("fixed");
    eventually("the recovery told", Duration.ofSeconds(60), () -> accepted.size() == 2);
    // More syncs of the same condition say nothing new.
    Thread.sleep(1_500);
    assertThat(accepted).hasSize(2);
    assertThat(requests.get() - requestsBefore).as("one refused, two accepted").isEqualTo(3);

    JsonObject failed = verified(accepted.get(0));
    assertThat(failed.getString("event")).isEqualTo("failed");
    assertThat(failed.getString("environment")).isEqualTo("staging");
    assertThat(failed.getString("revision")).isEqualTo(broken);
    assertThat(failed.getString("reason")).isEqualTo("Failed");
    assertThat(failed.getString("message")).contains("size");
    JsonObject recovered = verified(accepted.get(1));
    assertThat(recovered.getString("event")).isEqualTo("recovered");
    assertThat(recovered.getString("revision")).isEqualTo(fixed);
    assertThat(recovered.getString("reason")).isEqualTo("Ready");
    assertThat(accepted).allSatisfy(delivery -> assertThat(delivery[1]).doesNotContain(PASSWORD).doesNotContain(SECRET));
    assertThat(controller.registry().find("langconnect.notifications").tag("kind", "webhook").tag("target", "ops")
        .tag("outcome", "sent").counter().count()).isEqualTo(2.0 + before.size());
  }

  private static JsonObject verified(String[] delivery) {
    assertThat(delivery[0]).isEqualTo("sha256=" + Signatures.hmacSha256Hex(SECRET.getBytes(StandardCharsets.UTF_8),
        delivery[1].getBytes(StandardCharsets.UTF_8)));
    return new JsonObject(delivery[1]);
  }
}
