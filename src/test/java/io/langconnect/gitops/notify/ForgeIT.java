package io.langconnect.gitops.notify;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.Forge;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller beside a real forge (the test env's Gitea): the values are pushed to it over HTTP with a token, it
 * delivers its own signed push webhooks, and the commit statuses the controller posts are read back through its API.
 */
@ExtendWith(LocalControlPlane.class)
class ForgeIT {

  private static final String WEBHOOK_SECRET = "forge-webhook-secret";

  @TempDir
  Path tmp;

  private KubernetesClient admin;
  private Forge forge;
  private PodReadiness kubelet;
  private Vertx vertx;
  private Controller controller;
  private String stagingNs;
  private String prodNs;
  private String stateNs;

  @BeforeEach
  void setUp(LocalControlPlane plane) {
    admin = plane.admin();
    forge = Forge.of(plane);
    stagingNs = plane.uniqueNamespace("it-forge-staging");
    prodNs = plane.uniqueNamespace("it-forge-prod");
    stateNs = plane.uniqueNamespace("it-forge-state");
    kubelet = PodReadiness.markReady(admin, "it-forge");
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    if (controller != null) controller.close();
    vertx.close().await();
    kubelet.close();
  }

  private ValuesRepo twoEnvironments(String repository, String name) throws Exception {
    return ValuesRepo.onForge(forge, repository, tmp.resolve(name))
        .write("envs/values.yaml", "langconnect:\n  image:\n    repository: registry.example.com/langconnect\n"
            + "postgres:\n  auth:\n    password: forge-password\n")
        .write("envs/values-staging.yaml", "namespace: " + stagingNs + "\n")
        .write("envs/values-prod.yaml", "namespace: " + prodNs + "\n");
  }

  private ControllerConfig config(String repository, Duration interval) throws Exception {
    Path token = Files.writeString(tmp.resolve("forge-token"), forge.token() + "\n");
    Path secret = Files.writeString(tmp.resolve("gitea-secret"), WEBHOOK_SECRET + "\n");
    return ControllerConfig.defaults()
        .withGit(new ControllerConfig.Git(forge.cloneUrl(repository), "main", "envs", interval, Duration.ofSeconds(10),
            tmp.resolve("clone").toString(), new ControllerConfig.GitAuth(token.toString(), null, null, null, null)))
        .withKubernetes(new ControllerConfig.Kubernetes(stateNs, null, false, null, null))
        .withSync(new ControllerConfig.Sync(Duration.ofHours(1), Duration.ofSeconds(60), 2, 5))
        .withHttp(new ControllerConfig.Http(0, "127.0.0.1", null))
        .withWebhooks(new ControllerConfig.Webhooks(null, null, new ControllerConfig.WebhookSecret(secret.toString(), null),
            null, null, null))
        .withNotifications(new ControllerConfig.Notifications(
            new ControllerConfig.CommitStatus("gitea", forge.url(), token.toString(), null), null));
  }

  private double syncs(String env) {
    return controller.registry().find("langconnect.sync").tag("environment", env).counters().stream()
        .mapToDouble(Counter::count).sum();
  }

  private boolean synced(String... environments) {
    return controller.board().all().size() == environments.length
        && controller.board().all().stream().allMatch(s -> s.result() == EnvironmentStatus.Result.SYNCED);
  }

  @Test
  void aPushTheForgeDeliversItselfSyncsOnlyTheEnvironmentItChanged() throws Exception {
    String repository = forge.newRepository("push");
    ValuesRepo repo = twoEnvironments(repository, "work");
    String first = repo.commitAndPush("two environments");
    controller = new Controller(vertx, admin, config(repository, Duration.ofHours(1)));
    controller.start().await();
    eventually(() -> synced("staging", "prod"));
    // Gitea handles a push in a queue: a hook added before it has would be sent the first push too.
    eventually("the forge handled the first push", () -> pushHandled(repository, first));
    String hook = "http://127.0.0.1:" + controller.httpPort() + "/webhook/gitea";
    forge.addPushWebhook(repository, hook, WEBHOOK_SECRET);
    forge.addPushWebhook(repository, hook + "?wrong-secret", "not-the-secret"); // signed, but not with ours
    double prodSyncs = syncs("prod");

    repo.write("envs/values-staging.yaml", "namespace: " + stagingNs + "\nlangconnect:\n  replicaCount: 2\n")
        .commitAndPush("scale staging");

    // Only the forge's delivery can start this sync: the poll interval is an hour.
    eventually("Gitea's push webhook applied the change", () -> admin.apps().deployments().inNamespace(stagingNs)
        .withName("langconnect-langconnect").get().getSpec().getReplicas() == 2);
    assertThat(controller.registry().find("langconnect.webhook.requests").tag("provider", "gitea")
        .tag("outcome", "queued").counter().count()).isEqualTo(1.0);
    eventually("the delivery signed with another secret refused", () -> controller.registry()
        .find("langconnect.webhook.requests").tag("provider", "gitea").tag("outcome", "unauthorized").counter().count() == 1.0);
    assertThat(syncs("prod")).isEqualTo(prodSyncs);
    repo.close();
  }

  @Test
  void eachEnvironmentsOutcomeIsACommitStatusOnTheForge() throws Exception {
    String repository = forge.newRepository("statuses");
    ValuesRepo repo = twoEnvironments(repository, "work");
    String first = repo.commitAndPush("two environments");
    controller = new Controller(vertx, admin, config(repository, Duration.ofMillis(300)));
    controller.start().await();

    eventually("both environments Ready and reported so", () -> latest(repository, first, "staging").equals("success")
        && latest(repository, first, "prod").equals("success"));
    JsonArray statuses = forge.statuses(repository, first);
    assertThat(states(statuses, "prod")).containsSubsequence("success", "pending"); // newest first: applying, then Ready
    assertThat(description(statuses, "prod")).isEqualTo("Ready");

    String second = repo.write("envs/values-prod.yaml", "namespace: " + prodNs + "\nlangconnect:\n  replicaCount: many\n")
        .commitAndPush("a mistake in prod");
    eventually("the mistake reported as prod's failure", () -> latest(repository, second, "prod").equals("failure"));
    assertThat(description(forge.statuses(repository, second), "prod"))
        .startsWith("failed: values are invalid, live objects left untouched: ")
        .contains("replicaCount");
    eventually(() -> latest(repository, second, "staging").equals("success"));
    assertThat(controller.registry().find("langconnect.notifications").tag("kind", "commit_status")
        .tag("outcome", "refused").counter().count()).isZero();
    repo.close();
  }

  private boolean pushHandled(String repository, String commit) {
    try {
      return forge.pushHandled(repository, commit);
    } catch (Exception e) {
      return false;
    }
  }

  private String latest(String repository, String commit, String environment) {
    try {
      List<String> states = states(forge.statuses(repository, commit), environment);
      return states.isEmpty() ? "" : states.get(0);
    } catch (Exception e) {
      return "";
    }
  }

  private static List<String> states(JsonArray statuses, String environment) {
    return IntStream.range(0, statuses.size()).mapToObj(statuses::getJsonObject)
        .filter(s -> s.getString("context").equals("langconnect-gitops/" + environment))
        .map(s -> s.getString("status")).toList();
  }

  private static String description(JsonArray statuses, String environment) {
    return IntStream.range(0, statuses.size()).mapToObj(statuses::getJsonObject)
        .filter(s -> s.getString("context").equals("langconnect-gitops/" + environment))
        .map(s -> s.getString("description")).findFirst().orElse("");
  }

}
