package io.langconnect.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.testenv.FaultProxy;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller deletes and overwrites only what is its own, whatever its inventory says: as a user's scripts
 * run {@code sync --once} against the local API server, with the inventory edited in between as an attacker, a
 * second controller or a corruption could.
 */
@ExtendWith(LocalControlPlane.class)
class OwnershipIT {

  @TempDir
  Path values;

  private LocalControlPlane plane;
  private KubernetesClient admin;
  private String ns;
  private String state;
  private String[] sync;

  @BeforeEach
  void setUp(LocalControlPlane plane) throws Exception {
    this.plane = plane;
    admin = plane.admin();
    ns = plane.uniqueNamespace("it-own");
    state = plane.uniqueNamespace("it-own-state");
    Files.writeString(values.resolve("values-staging.yaml"), """
        namespace: %s
        langconnect:
          image:
            repository: registry.example.com/langconnect
        postgres:
          auth:
            password: staging-password
        """.formatted(ns));
    sync = new String[] {"sync", "--once", "--values", values.toString(), "--kubeconfig", plane.kubeconfig(),
        "--state-namespace", state, "--database-ready-timeout", "0s"};
  }

  private CliTest.Run sync() {
    return CliTest.run(sync);
  }

  /** Adds rows to the environment's inventory ConfigMap, as someone with edit rights on it could. */
  private void addInventoryRows(JsonObject... rows) {
    var inventory = admin.configMaps().inNamespace(state).withName(InventoryStore.configMapName("staging"));
    JsonArray objects = new JsonArray(inventory.get().getData().get("objects"));
    for (JsonObject row : rows) objects.add(row);
    inventory.patch(PatchContext.of(PatchType.JSON_MERGE),
        new JsonObject().put("data", new JsonObject().put("objects", objects.encode())).encode());
  }

  private static JsonObject row(String apiVersion, String kind, String namespace, String name) {
    return new JsonObject().put("apiVersion", apiVersion).put("kind", kind).put("namespace", namespace).put("name", name)
        .put("hash", "0").put("revision", "local");
  }

  private List<String> eventReasons(String namespace) {
    return admin.events().v1().events().inNamespace(namespace).list().getItems().stream().map(Event::getReason).toList();
  }

  @Test
  void anInventoryNamingObjectsElsewhereOrOfOtherKindsDeletesNothing() throws Exception {
    assertThat(sync().exit()).isZero();
    // What was found: a row naming a ConfigMap in `default`; also a Deployment of another environment elsewhere.
    String other = plane.newNamespace("it-own-other");
    admin.resource(new ConfigMapBuilder().withNewMetadata().withName("victim-" + ns).withNamespace("default").endMetadata()
        .addToData("keep", "me").build()).create();
    try {
      admin.resource(new DeploymentBuilder().withNewMetadata().withName("victim").withNamespace(other)
          .addToLabels(Labels.MANAGED_BY, Labels.MANAGER).addToLabels(Labels.ENVIRONMENT, "other").endMetadata()
          .withNewSpec().withNewSelector().addToMatchLabels("app", "victim").endSelector()
          .withNewTemplate().withNewMetadata().addToLabels("app", "victim").endMetadata().withNewSpec()
          .addNewContainer().withName("c").withImage("registry.example.com/victim:1").endContainer().endSpec().endTemplate()
          .endSpec().build()).create();
      addInventoryRows(row("v1", "ConfigMap", "default", "victim-" + ns), row("apps/v1", "Deployment", other, "victim"));

      CliTest.Run second = sync();

      assertThat(second.exit()).isZero();
      assertThat(second.out()).contains("ConfigMap/victim-" + ns + ", which is not a kind the controller manages",
          "nothing was pruned", "rewritten");
      assertThat(admin.configMaps().inNamespace("default").withName("victim-" + ns).get()).isNotNull();
      assertThat(admin.apps().deployments().inNamespace(other).withName("victim").get()).isNotNull();
      assertThat(eventReasons(ns)).contains("InvalidInventory");
      // The next sync finds the inventory rewritten: it holds only what the environment renders.
      String rewritten = admin.configMaps().inNamespace(state).withName(InventoryStore.configMapName("staging")).get()
          .getData().get("objects");
      assertThat(rewritten).doesNotContain("victim");
      assertThat(sync().out()).doesNotContain("inventory");

      // Rows of a kind the controller does not manage, or outside the namespace, are refused the same way.
      addInventoryRows(row("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", ns, "cluster-admin"));
      assertThat(sync().out()).contains("not a kind the controller manages", "nothing was pruned");
      addInventoryRows(row("apps/v1", "Deployment", "kube-system", "coredns"));
      assertThat(sync().out()).contains("outside the environment's namespace", "nothing was pruned");
    } finally {
      admin.configMaps().inNamespace("default").withName("victim-" + ns).delete();
    }
  }

  @Test
  void inTheEnvironmentsNamespaceOnlyOurObjectsArePruned() throws Exception {
    assertThat(sync().exit()).isZero();
    // Someone else's Service, and a Deployment of another environment sharing the namespace: named by the inventory.
    admin.resource(new ServiceBuilder().withNewMetadata().withName("theirs").withNamespace(ns).endMetadata()
        .withNewSpec().addNewPort().withPort(80).endPort().endSpec().build()).create();
    admin.resource(new DeploymentBuilder().withNewMetadata().withName("neighbour").withNamespace(ns)
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGER).addToLabels(Labels.ENVIRONMENT, "neighbour").endMetadata()
        .withNewSpec().withNewSelector().addToMatchLabels("app", "neighbour").endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", "neighbour").endMetadata().withNewSpec()
        .addNewContainer().withName("c").withImage("registry.example.com/neighbour:1").endContainer().endSpec().endTemplate()
        .endSpec().build()).create();
    addInventoryRows(row("v1", "Service", ns, "theirs"), row("apps/v1", "Deployment", ns, "neighbour"));

    CliTest.Run second = sync();

    assertThat(second.exit()).isZero();
    assertThat(second.out()).contains("skipped 2 not ours", "Service/theirs", "Deployment/neighbour");
    assertThat(admin.services().inNamespace(ns).withName("theirs").get()).isNotNull();
    assertThat(admin.apps().deployments().inNamespace(ns).withName("neighbour").get()).isNotNull();
    assertThat(eventReasons(ns)).contains("PruneSkipped");
    // The rows left the inventory: the next sync has nothing to skip.
    assertThat(sync().out()).doesNotContain("skipped");

    // A removed environment is pruned the same way: ours goes, theirs stays.
    addInventoryRows(row("v1", "Service", ns, "theirs"));
    Files.delete(values.resolve("values-staging.yaml"));
    Files.writeString(values.resolve("values-other.yaml"), "namespace: " + plane.uniqueNamespace("it-own-x")
        + "\nlangconnect:\n  image:\n    repository: lc\npostgres:\n  auth:\n    password: x\n");
    CliTest.Run removed = sync();
    assertThat(removed.out()).contains("staging", "Pruned", "skipped 1 not ours: Service/theirs");
    assertThat(admin.services().inNamespace(ns).withName("theirs").get()).isNotNull();
    assertThat(admin.services().inNamespace(ns).withName("langconnect-langconnect").get()).isNull();
  }

  @Test
  void anExistingObjectOfAnotherOwnerIsNotTakenOver() throws Exception {
    admin.resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
    admin.resource(new ServiceBuilder().withNewMetadata().withName("langconnect-langconnect").withNamespace(ns)
        .addToLabels(Labels.MANAGED_BY, "Helm").endMetadata()
        .withNewSpec().addToSelector("app", "legacy").addNewPort().withPort(9999).endPort().endSpec().build()).create();

    CliTest.Run run = sync();

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out()).contains("Failed", "Service/langconnect-langconnect (managed-by=Helm, environment=(none))",
        "nothing was changed");
    var service = admin.services().inNamespace(ns).withName("langconnect-langconnect").get();
    assertThat(service.getSpec().getPorts().get(0).getPort()).isEqualTo(9999);
    assertThat(service.getMetadata().getManagedFields()).noneMatch(f -> Labels.MANAGER.equals(f.getManager()));
    assertThat(admin.apps().deployments().inNamespace(ns).list().getItems()).as("nothing of the stack applied").isEmpty();
    assertThat(eventReasons(ns)).contains("NotOurs");
    CliTest.Run diff = CliTest.run("diff", "--values", values.toString(), "--kubeconfig", plane.kubeconfig(),
        "--state-namespace", state);
    assertThat(diff.out()).contains("Service/langconnect-langconnect exists and is not this environment's");
  }

  @Test
  void aValuesFileNamingKubeSystemNeverReachesTheApiServer() throws Exception {
    Files.writeString(values.resolve("values-staging.yaml"), """
        langconnect:
          image:
            repository: registry.example.com/langconnect
        namespace: kube-system
        """);
    CliTest.Run validate = CliTest.run("validate", "--values", values.toString());
    assertThat(validate.exit()).isEqualTo(1);
    assertThat(validate.out()).contains("values-staging.yaml:4: namespace: \"kube-system\" is not a namespace"
        + " environments may use; expected one that kubernetes.allowedNamespaces allows: *, !kube-*, !default");

    try (FaultProxy proxy = FaultProxy.start(plane)) {
      Path kubeconfig = Files.writeString(values.getParent().resolve("proxy-" + ns + ".kubeconfig"), """
          apiVersion: v1
          kind: Config
          clusters: [{name: c, cluster: {server: "%s", certificate-authority: "%s"}}]
          users: [{name: u, user: {token: "%s"}}]
          contexts: [{name: x, context: {cluster: c, user: u}}]
          current-context: x
          """.formatted(proxy.url(), plane.caFile(), plane.adminToken()));
      CliTest.Run run = CliTest.run("sync", "--once", "--values", values.toString(), "--kubeconfig", kubeconfig.toString(),
          "--state-namespace", state);
      assertThat(run.exit()).isEqualTo(1);
      assertThat(run.out()).contains("staging", "Failed", "kube-system");
      assertThat(proxy.writeCount()).as("writes that reached the API server").isZero();
    }
    assertThat(admin.apps().deployments().inNamespace("kube-system").withLabel(Labels.MANAGED_BY, Labels.MANAGER)
        .list().getItems()).isEmpty();

    // A narrower allow-list refuses the default namespace of an environment too.
    Files.writeString(values.resolve("values-staging.yaml"), "langconnect:\n  image:\n    repository: lc\n");
    Path config = Files.writeString(values.getParent().resolve("allow-" + ns + ".yaml"),
        "kubernetes:\n  allowedNamespaces: [\"team-a-*\"]\n");
    CliTest.Run narrow = CliTest.run("validate", "--values", values.toString(), "--config", config.toString());
    assertThat(narrow.exit()).isEqualTo(1);
    assertThat(narrow.out()).contains("\"langconnect-staging\" (the default for this environment) is not a namespace",
        "team-a-*");
  }
}
