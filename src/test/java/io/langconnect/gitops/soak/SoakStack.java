package io.langconnect.gitops.soak;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static io.langconnect.gitops.testenv.LocalControlPlane.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.testenv.DatabaseSettling;
import io.langconnect.gitops.testenv.FaultProxy;
import io.langconnect.gitops.testenv.LangConnectClient;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
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
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The soak's stack on the test node: the controller installed with {@code helm install} from the chart (two replicas,
 * leader election), its values repository on the git daemon, and the environments it runs; with what the driver and
 * the checks read from it: the controller's API and scrapes, the databases through their Services, the live objects.
 */
final class SoakStack implements AutoCloseable {

  static final String CONTROLLER_NS = "langconnect-gitops";
  static final String API_TOKEN = "soak-api-token";
  static final String WEBHOOK_SECRET = "soak-webhook-secret";
  private static final Duration STARTUP = Duration.ofMinutes(5);

  final LocalControlPlane plane;
  final KubernetesClient admin;
  final List<SoakEnvironment> environments = new ArrayList<>();
  final Path values;
  private final Path tmp;
  private ValuesRepo repo;
  /** The controllers reach the API server through it, so that the driver can cut their watches. */
  FaultProxy apiProxy;
  private String head;
  private final List<String> commits = new ArrayList<>();

  SoakStack(LocalControlPlane plane, Path tmp, int count) {
    this.plane = plane;
    this.admin = plane.admin();
    this.tmp = tmp;
    this.values = tmp.resolve("values");
    // prod and staging keep their data on claims (prod held before a prune, staging restored by the driver); the
    // others run on emptyDir; "extra" (production, on a claim) is added and removed by the driver.
    for (int i = 0; i < count; i++) {
      String name = i == 0 ? "prod" : i == 1 ? "staging" : "e%02d".formatted(i);
      environments.add(new SoakEnvironment(name, plane.uniqueNamespace("soak-" + name), i < 2, i == 0));
    }
    SoakEnvironment extra = new SoakEnvironment("extra", plane.uniqueNamespace("soak-extra"), true, true);
    extra.present = false;
    environments.add(extra);
  }

  SoakEnvironment environment(String name) {
    return environments.stream().filter(e -> e.name.equals(name)).findFirst().orElseThrow();
  }

  List<SoakEnvironment> present() {
    return environments.stream().filter(e -> e.present).toList();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Install and remove

  void install() throws Exception {
    plane.awaitNamespaceGone(CONTROLLER_NS); // another test may have installed the same chart before
    repo = ValuesRepo.create(plane, values);
    String toleration = "  tolerations:\n    - {key: " + plane.setting("NODE_TAINT").split("=")[0]
        + ", operator: Exists, effect: NoSchedule}\n";
    String postgresImage = plane.setting("NODE_POSTGRES_IMAGE");
    String appImage = plane.setting("NODE_LANGCONNECT_IMAGE");
    repo.write("values.yaml", """
        langconnect:
          image: {repository: %s, tag: "%s", pullPolicy: IfNotPresent}
        %spostgres:
          image: {repository: %s, tag: "%s", pullPolicy: IfNotPresent}
        %s""".formatted(image(appImage)[0], image(appImage)[1], toleration, image(postgresImage)[0],
        image(postgresImage)[1], toleration));
    commit("the soak's environments");

    apiProxy = FaultProxy.start(plane.apiUrl(), plane.caFile(), plane.setting("NODE_IP"));
    String controllerImage = run(List.of("scripts/test-env.sh", "controller-image", "target/langconnect-gitops.jar")).strip();
    Path helmValues = Files.writeString(tmp.resolve("helm-values.yaml"), """
        image: {repository: %s, tag: "%s"}
        tolerations: [{key: %s, operator: Exists, effect: NoSchedule}]
        apiToken: {create: true, token: %s}
        webhookSecrets: {create: true, data: {github: %s}}
        serviceMonitor: {enabled: false}
        prometheusRule: {enabled: false}
        extraEnv:
          - {name: KUBERNETES_SERVICE_HOST, value: "%s"}
          - {name: KUBERNETES_SERVICE_PORT, value: "%d"}
        config:
          git: {url: %s, interval: 20s, path: null, auth: null}
          sync: {databaseReadyTimeout: 3m}
          observe: {interval: 2s, countInterval: 5s}
          logging: {format: json}
        """.formatted(image(controllerImage)[0], image(controllerImage)[1], plane.setting("NODE_TAINT").split("=")[0],
        API_TOKEN, WEBHOOK_SECRET, apiProxy.host(), apiProxy.port(),
        repo.gitUrl().replace(plane.gitDaemonUrl(), plane.setting("GIT_DAEMON_NODE_URL"))));
    run(List.of(plane.setting("HELM"), "--kubeconfig", plane.kubeconfig(), "install", "langconnect-gitops",
        "charts/langconnect-gitops", "--namespace", CONTROLLER_NS, "--create-namespace", "--take-ownership",
        "--values", helmValues.toString()));
    eventually("the controller's two replicas ready", STARTUP, () -> controllerPods().stream().filter(SoakStack::ready)
        .count() == 2);
    eventually("every environment Ready at the head commit", STARTUP, this::converged);
  }

  @Override
  public void close() throws InterruptedException {
    if (repo != null) repo.close();
    if (Boolean.getBoolean("soak.keep")) {
      System.out.println("[soak] -Dsoak.keep: the controller and the environments are left running (the controllers"
          + " lose the API server with this JVM's proxy)");
      return;
    }
    admin.namespaces().withName(CONTROLLER_NS).delete();
    admin.pods().inNamespace(CONTROLLER_NS).withGracePeriod(0).delete();
    plane.awaitNamespaceGone(CONTROLLER_NS);
    for (SoakEnvironment env : environments) {
      admin.namespaces().withName(env.namespace).delete();
      admin.pods().inNamespace(env.namespace).withGracePeriod(0).delete();
    }
    admin.rbac().clusterRoleBindings().withName("langconnect-gitops").delete();
    admin.rbac().clusterRoles().withName("langconnect-gitops").delete();
    for (SoakEnvironment env : environments) plane.awaitNamespaceGone(env.namespace);
    if (apiProxy != null) apiProxy.close();
  }

  // ---------------------------------------------------------------------------------------------------------
  // The values repository

  /**
   * Writes every environment's values as the driver last set them, commits and pushes; returns the commit. Each
   * environment remembers the commit that last changed its values: a push webhook syncs only the environments whose
   * files it changed, so the others stay Ready at an earlier commit with the same values.
   */
  String commit(String message) throws Exception {
    for (SoakEnvironment env : environments) {
      if (env.present) repo.write(env.file(), env.values());
      else repo.delete(env.file());
    }
    head = repo.commitAndPush(message);
    commits.add(head);
    for (SoakEnvironment env : environments) {
      String values = env.present ? env.values() : "";
      if (!values.equals(env.committedValues)) {
        env.committedValues = values;
        env.changedAt = commits.size() - 1;
      }
    }
    return head;
  }

  /** Whether {@code revision} holds the environment's values as last committed: that commit or a later one. */
  private boolean current(SoakEnvironment env, String revision) {
    int at = commits.indexOf(revision);
    return at >= env.changedAt;
  }

  String head() {
    return head;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Convergence: what the controller says, checked against the live objects

  /**
   * Every environment in the values at its values' latest commit and Ready by the controller's API, its LangConnect
   * Deployment rolled out at the committed replicas, its database's StatefulSet ready; the removed one pruned.
   */
  boolean converged() {
    JsonObject all = api("/api/v1/environments");
    JsonArray listed = all.getJsonArray("environments");
    if (listed == null) return false;
    for (SoakEnvironment env : environments) {
      Optional<JsonObject> status = listed.stream().map(JsonObject.class::cast)
          .filter(s -> env.name.equals(s.getString("name"))).findFirst();
      if (!env.present) {
        if (status.isPresent() && !"Pruned".equals(status.get().getString("result"))) return false;
        continue;
      }
      if (status.isEmpty() || !current(env, status.get().getString("revision"))
          || !status.get().getBoolean("ready", false)) {
        return false;
      }
      if (!rolledOut(env)) return false;
    }
    return true;
  }

  private boolean rolledOut(SoakEnvironment env) {
    Deployment app = admin.apps().deployments().inNamespace(env.namespace).withName("langconnect-langconnect").get();
    StatefulSet database = admin.apps().statefulSets().inNamespace(env.namespace).withName("langconnect-postgres").get();
    if (app == null || app.getStatus() == null || database == null || database.getStatus() == null) return false;
    // What the driver edits or deletes by hand is back as rendered.
    var databaseService = admin.services().inNamespace(env.namespace).withName("langconnect-postgres").get();
    if (databaseService == null || databaseService.getSpec().getPorts().get(0).getPort() != 5432
        || admin.services().inNamespace(env.namespace).withName("langconnect-langconnect").get() == null
        || admin.secrets().inNamespace(env.namespace).withName("langconnect-postgres").get() == null) {
      return false;
    }
    var a = app.getStatus();
    var d = database.getStatus();
    return Objects.equals(app.getSpec().getReplicas(), env.replicas)
        && Objects.equals(a.getObservedGeneration(), app.getMetadata().getGeneration())
        && Objects.equals(a.getUpdatedReplicas(), env.replicas) && Objects.equals(a.getAvailableReplicas(), env.replicas)
        && Objects.equals(a.getReplicas(), env.replicas)
        && Objects.equals(d.getObservedGeneration(), database.getMetadata().getGeneration())
        && Objects.equals(d.getCurrentRevision(), d.getUpdateRevision()) && Objects.equals(d.getReadyReplicas(), 1);
  }

  /** What a user would look at when an environment does not come back: the pods and the controller's statuses. */
  String snapshot() {
    StringBuilder out = new StringBuilder(statusLines());
    for (String ns : java.util.stream.Stream.concat(java.util.stream.Stream.of(CONTROLLER_NS),
        environments.stream().map(e -> e.namespace)).toList()) {
      for (Pod pod : admin.pods().inNamespace(ns).list().getItems()) {
        out.append("  pod ").append(ns).append('/').append(pod.getMetadata().getName()).append(" ready ")
            .append(ready(pod)).append(pod.getMetadata().getDeletionTimestamp() == null ? "" : " terminating")
            .append(pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null ? ""
                : pod.getStatus().getContainerStatuses().stream().map(c -> " " + c.getName() + " restarts="
                + c.getRestartCount() + " " + (c.getState().getWaiting() != null ? c.getState().getWaiting().getReason()
                : c.getState().getRunning() != null ? "running" : "terminated")).toList()).append('\n');
      }
    }
    return out.toString();
  }

  /** What the controller's API says, a line per environment: its result, revision and message. */
  String statusLines() {
    JsonArray listed = api("/api/v1/environments").getJsonArray("environments", new JsonArray());
    StringBuilder out = new StringBuilder();
    for (Object o : listed) {
      JsonObject s = (JsonObject) o;
      out.append("  ").append(s.getString("name")).append(": ").append(s.getString("result")).append(", ready ")
          .append(s.getBoolean("ready")).append(", ").append(String.valueOf(s.getString("revision")).substring(0, 7))
          .append(" (head ").append(head, 0, 7).append("): ").append(s.getString("message")).append('\n');
    }
    return out.toString();
  }

  // ---------------------------------------------------------------------------------------------------------
  // The controller

  List<Pod> controllerPods() {
    return admin.pods().inNamespace(CONTROLLER_NS).withLabel("app.kubernetes.io/name", "langconnect-gitops").list()
        .getItems();
  }

  /**
   * The pod holding the Lease: its holder identity is the pod's name and a suffix. A Lease renewed more than five
   * seconds ago may still name a process that died (its restarted container in the same pod is no leader): none then.
   */
  Optional<Pod> leader() {
    var lease = admin.leases().inNamespace(CONTROLLER_NS).withName("langconnect-gitops").get();
    if (lease == null || lease.getSpec().getHolderIdentity() == null || lease.getSpec().getRenewTime() == null
        || lease.getSpec().getRenewTime().toInstant().isBefore(java.time.Instant.now().minusSeconds(5))) {
      return Optional.empty();
    }
    String holder = lease.getSpec().getHolderIdentity();
    return controllerPods().stream().filter(p -> holder.startsWith(p.getMetadata().getName() + "-")).findFirst();
  }

  /** The controller's status API through its Service (a standby passes it on to the leader); {} when it did not answer. */
  JsonObject api(String path) {
    try {
      HttpResponse<String> response = send(HttpRequest.newBuilder(controllerUri(path))
          .header("Authorization", "Bearer " + API_TOKEN).GET());
      return response.statusCode() == 200 ? new JsonObject(response.body()) : new JsonObject();
    } catch (Exception e) {
      return new JsonObject();
    }
  }

  int post(String path) throws Exception {
    return send(HttpRequest.newBuilder(controllerUri(path)).header("Authorization", "Bearer " + API_TOKEN)
        .POST(HttpRequest.BodyPublishers.noBody())).statusCode();
  }

  int webhook(String body, Map<String, String> headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(controllerUri("/webhook/github"))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(request::header);
    return send(request).statusCode();
  }

  /** Each ready replica's /metrics by its pod, as Prometheus scrapes them. */
  String scrape(Pod pod) {
    try {
      return send(HttpRequest.newBuilder(URI.create("http://" + pod.getStatus().getPodIP() + ":8080/metrics")).GET()).body();
    } catch (Exception e) {
      return "";
    }
  }

  private URI controllerUri(String path) {
    return URI.create("http://" + serviceIp(CONTROLLER_NS, "langconnect-gitops") + ":8080" + path);
  }

  /** Bounded as a whole: a kept-alive connection through a Service can stall mid-body. */
  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
        .sendAsync(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString())
        .get(15, TimeUnit.SECONDS);
  }

  // ---------------------------------------------------------------------------------------------------------
  // The environments' databases and LangConnect

  /** One statement through the environment's Service, as its superuser with the committed password. */
  private Row queryOnce(SoakEnvironment env, String sql) {
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(new PgConnectOptions()
        .setHost(serviceIp(env.namespace, "langconnect-postgres")).setPort(5432).setUser("postgres")
        .setPassword(env.password).setDatabase("postgres")).using(LocalControlPlane.vertx())
        .build();
    try {
      var rows = await(pool.query(sql).execute());
      return rows.size() == 0 ? null : rows.iterator().next();
    } finally {
      pool.close();
    }
  }

  /**
   * As a client after a disruption: a refused connection, a Service without a ready endpoint yet (no route to host)
   * or a server still starting is tried again for up to a minute; anything else fails at once.
   */
  Row query(SoakEnvironment env, String sql) {
    return DatabaseSettling.retry(() -> queryOnce(env, sql));
  }

  /** Documents written as LangConnect's clients write them: through its Service, embedded by LangChain. */
  void addDocuments(SoakEnvironment env, String collection, int count) throws Exception {
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < count; i++) texts.add(collection + " document " + i);
    HttpResponse<String> response = LangConnectClient.addDocuments(serviceIp(env.namespace, "langconnect-langconnect"),
        collection, texts, "soak");
    if (response.statusCode() != 200) throw new IllegalStateException("LangConnect of " + env + ": " + response.body());
  }

  String serviceIp(String namespace, String name) {
    return admin.services().inNamespace(namespace).withName(name).get().getSpec().getClusterIP();
  }

  static boolean ready(Pod pod) {
    return pod.getMetadata().getDeletionTimestamp() == null && pod.getStatus() != null
        && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  static String run(List<String> command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
    }
    return output;
  }

  private static String[] image(String reference) {
    int colon = reference.lastIndexOf(':');
    return new String[] {reference.substring(0, colon), reference.substring(colon + 1)};
  }
}
