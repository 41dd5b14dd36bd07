package io.langconnect.gitops.testenv;

import static io.langconnect.gitops.testenv.FaultProxy.request;
import static io.langconnect.gitops.testenv.LocalControlPlane.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Proof that the local control plane is the real thing: what a stand-in would get wrong, it gets right. */
@ExtendWith(LocalControlPlane.class)
class ControlPlaneSmokeIT {

  private static ConfigMap configMap(String namespace, String key, String value) {
    return new ConfigMapBuilder().withNewMetadata().withName("smoke").withNamespace(namespace).endMetadata()
        .addToData(key, value).build();
  }

  @Test
  void serverSideApplyDetectsConflictsAndRecordsBothManagers(LocalControlPlane plane) {
    KubernetesClient client = plane.admin();
    String ns = plane.newNamespace("smoke-ssa");

    client.resource(configMap(ns, "owner", "a")).fieldManager("manager-a").serverSideApply();

    assertThatThrownBy(() -> client.resource(configMap(ns, "owner", "b")).fieldManager("manager-b").serverSideApply())
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
          assertThat(e.getCode()).isEqualTo(409);
          assertThat(e.getMessage()).contains("conflict").contains("manager-a");
        });

    client.resource(configMap(ns, "other", "b")).fieldManager("manager-b").serverSideApply();
    ConfigMap live = client.configMaps().inNamespace(ns).withName("smoke").get();
    assertThat(live.getData()).containsEntry("owner", "a").containsEntry("other", "b");
    assertThat(live.getMetadata().getManagedFields()).extracting(ManagedFieldsEntry::getManager)
        .contains("manager-a", "manager-b");
  }

  @Test
  void invalidObjectIsRejectedWith422(LocalControlPlane plane) {
    String ns = plane.newNamespace("smoke-invalid");
    var service = new ServiceBuilder().withNewMetadata().withName("bad-port").withNamespace(ns).endMetadata()
        .withNewSpec().addNewPort().withPort(70000).endPort().endSpec().build();

    assertThatThrownBy(() -> plane.admin().resource(service).create())
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
          assertThat(e.getCode()).isEqualTo(422);
          assertThat(e.getMessage()).contains("spec.ports[0].port");
        });
  }

  @Test
  void userWithoutRbacGrantsIsForbidden(LocalControlPlane plane) {
    try (KubernetesClient nobody = plane.client(plane.apiUrl(), plane.unprivilegedToken())) {
      assertThatThrownBy(() -> nobody.namespaces().list())
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
            assertThat(e.getCode()).isEqualTo(403);
            assertThat(e.getMessage()).contains("User \"nobody\" cannot list resource \"namespaces\"");
          });
    }
  }

  @Test
  void controllerManagerTurnsDeploymentsIntoReplicaSetsAndPods(LocalControlPlane plane) throws Exception {
    String ns = plane.newNamespace("smoke-kcm");
    var deployment = new DeploymentBuilder().withNewMetadata().withName("web").withNamespace(ns).endMetadata()
        .withNewSpec().withReplicas(1).withNewSelector().addToMatchLabels("app", "web").endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", "web").endMetadata()
        .withNewSpec().addNewContainer().withName("web").withImage("example.invalid/web:1").endContainer().endSpec()
        .endTemplate().endSpec().build();
    plane.admin().resource(deployment).serverSideApply();

    plane.admin().pods().inNamespace(ns).withLabel("app", "web")
        .informOnCondition(pods -> !pods.isEmpty()).get(60, TimeUnit.SECONDS);
    assertThat(plane.admin().apps().replicaSets().inNamespace(ns).list().getItems()).hasSize(1);
  }

  @Test
  void postgresHasPgvector(LocalControlPlane plane) {
    String database = plane.newDatabase();
    Pool pool = plane.pool(database);
    try {
      Row row = await(pool.query("SELECT '[1,2,3]'::vector <-> '[1,2,5]'::vector AS distance,"
          + " (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS version").execute()).iterator().next();
      assertThat(row.getDouble("distance")).isEqualTo(2.0);
      assertThat(row.getString("version")).matches("\\d+\\.\\d+\\.\\d+");
    } finally {
      pool.close();
    }
  }

  @Test
  void gitDaemonServesPushAndLsRemote(LocalControlPlane plane, @TempDir Path work) throws Exception {
    String repo = "smoke-" + System.nanoTime() + ".git";
    Git.init().setBare(true).setDirectory(plane.gitDaemonRoot().resolve(repo).toFile()).call().close();
    try (Git git = Git.init().setDirectory(work.toFile()).setInitialBranch("main").call()) {
      java.nio.file.Files.writeString(work.resolve("values-dev.yaml"), "release: smoke\n");
      git.add().addFilepattern(".").call();
      RevCommit commit = git.commit().setMessage("values").setAuthor("t", "t@example.com").setCommitter("t", "t@example.com").call();
      String url = plane.gitDaemonUrl() + "/" + repo;
      git.push().setRemote(url).add("main").call();

      Ref head = Git.lsRemoteRepository().setRemote(url).setHeads(true).call().iterator().next();
      assertThat(head.getName()).isEqualTo("refs/heads/main");
      assertThat(head.getObjectId()).isEqualTo(commit.getId());
    }
  }

  @Test
  void faultProxyBreaksChosenRequestsAndPassesTheRest(LocalControlPlane plane) {
    String ns = plane.newNamespace("smoke-faults");
    plane.admin().resource(configMap(ns, "k", "v")).create();
    try (FaultProxy proxy = FaultProxy.start(plane);
         KubernetesClient client = plane.client(proxy.url(), plane.adminToken())) {
      proxy.inject(1, request("GET", "/configmaps/smoke"), FaultProxy.Fault.status(500))
          .inject(1, request("PATCH", "/configmaps/smoke"), FaultProxy.Fault.status(409))
          .inject(1, request("DELETE", "/configmaps/smoke"), FaultProxy.Fault.status(429))
          .inject(1, request("GET", "/configmaps"), FaultProxy.Fault.cut())
          .inject(1, request("GET", "/namespaces/" + ns), FaultProxy.Fault.delay(Duration.ofMillis(300)));

      var configMaps = client.configMaps().inNamespace(ns);
      assertThatThrownBy(() -> configMaps.withName("smoke").get())
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(500));
      assertThatThrownBy(() -> client.resource(configMap(ns, "k", "w")).fieldManager("t").serverSideApply())
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
      assertThatThrownBy(() -> configMaps.withName("smoke").delete())
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(429));
      assertThatThrownBy(() -> configMaps.list()).isInstanceOf(KubernetesClientException.class);

      assertThat(client.namespaces().withName(ns).get().getMetadata().getName()).isEqualTo(ns);
      assertThat(configMaps.withName("smoke").get().getData()).containsEntry("k", "v");
      assertThat(proxy.injectedCount()).isEqualTo(5);
    }
  }

  /**
   * The controller lists from worker threads: a reply that stops mid-body must end in an error, not a hung
   * thread. The clients of the tests are built as the controller builds its own.
   */
  @Test
  void aListWhoseBodyStallsFailsAfterTheRequestTimeout(LocalControlPlane plane) {
    String ns = plane.newNamespace("smoke-stall");
    for (int i = 0; i < 20; i++) {
      plane.admin().resource(new ConfigMapBuilder().withNewMetadata().withName("stall-" + i).withNamespace(ns).endMetadata()
          .addToData("k", "v".repeat(2_000)).build()).create();
    }
    try (FaultProxy proxy = FaultProxy.start(plane);
         KubernetesClient client = plane.client(proxy.url(), plane.adminToken(), Duration.ofSeconds(2))) {
      proxy.inject(1, request("GET", "/namespaces/" + ns + "/configmaps"), FaultProxy.Fault.stall());
      var configMaps = client.configMaps().inNamespace(ns);
      java.util.concurrent.CompletableFuture<Object> listed = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return configMaps.list();
        } catch (RuntimeException e) {
          return e;
        }
      });
      assertThat(listed).succeedsWithin(Duration.ofSeconds(20)).isInstanceOf(KubernetesClientException.class);
      assertThat(configMaps.list().getItems()).hasSizeGreaterThanOrEqualTo(20);
    }
  }
}
