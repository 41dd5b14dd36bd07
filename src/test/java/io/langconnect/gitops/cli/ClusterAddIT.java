package io.langconnect.gitops.cli;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.langconnect.gitops.config.ConfigLoader;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.AuditLog;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.PreboundVolume;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster add} against the second API server (RBAC on): the controller then syncs, corrects, backs up and
 * prunes an environment there as the ServiceAccount the command made, and the second API server's audit log shows
 * that nothing it did was refused and that it used every grant.
 */
@ExtendWith(LocalControlPlane.class)
class ClusterAddIT {

  private static final String SA = "system:serviceaccount:langconnect-gitops:langconnect-gitops";

  @TempDir
  Path tmp;

  @Test
  void theAddedClusterIsSyncedAsItsLeastPrivilegeServiceAccount(LocalControlPlane plane) throws Exception {
    LocalControlPlane.SecondCluster second = plane.secondCluster();
    String stateNs = plane.uniqueNamespace("it-ca-state");
    String stagingNs = plane.uniqueNamespace("it-ca-staging");
    String devNs = plane.uniqueNamespace("it-ca-dev");
    Path targetKubeconfig = Files.writeString(tmp.resolve("target.kubeconfig"),
        second.kubeconfig(second.apiUrl(), second.adminToken()));
    Path config = Files.writeString(tmp.resolve("controller.yaml"), """
        kubernetes:
          stateNamespace: %s
          leaderElection: false
        sync:
          databaseReadyTimeout: 60s
          backupTimeout: 3s
        observe:
          enabled: false
        clusters:
          second:
            kubeconfigSecret: cluster-second
        """.formatted(stateNs));
    String[] common = {"--config", config.toString(), "--kubeconfig", plane.kubeconfig()};

    CliTest.Run dryRun = CliTest.run(concat(new String[] {"cluster", "add", "second", "--target-kubeconfig",
        targetKubeconfig.toString(), "--dry-run"}, common));
    assertThat(dryRun.exit()).as(dryRun.err()).isZero();
    assertThat(dryRun.out()).contains("kind: \"ClusterRole\"").contains("kind: \"ServiceAccount\"")
        .contains("would mint a token").contains("nothing was changed");
    KubernetesClient here = plane.admin();
    assertThat(here.secrets().inNamespace(stateNs).withName("cluster-second").get()).as("a dry run writes nothing").isNull();

    Instant started = Instant.now();
    CliTest.Run add = CliTest.run(concat(new String[] {"cluster", "add", "second", "--target-kubeconfig",
        targetKubeconfig.toString()}, common));
    assertThat(add.exit()).as(add.err()).isZero();
    assertThat(add.out()).contains("clusters:\n  second:\n    kubeconfigSecret: cluster-second");
    assertThat(here.secrets().inNamespace(stateNs).withName("cluster-second").get().getData()).containsKey("kubeconfig");

    KubernetesClient there = second.client(second.apiUrl(), second.adminToken());
    Vertx vertx = Vertx.vertx();
    try (ValuesRepo repo = ValuesRepo.create(plane, tmp.resolve("values"));
         PodReadiness kubeletThere = PodReadiness.markReady(there, "it-ca");
         PodReadiness kubeletHere = PodReadiness.markReady(here, "it-ca")) {
      String volume = stagingNs + "-data";
      PreboundVolume.create(there, volume, stagingNs, "langconnect-postgres");
      repo.write("values-dev.yaml", "namespace: " + devNs + "\n" + image());
      String first = repo.write("values-staging.yaml", "namespace: " + stagingNs + "\ncluster: second\n" + image()
          + staging("")).commitAndPush("staging on the second cluster");
      var loaded = ConfigLoader.load(Optional.of(config), Map.of());
      var controllerConfig = loaded.withGit(new io.langconnect.gitops.config.ControllerConfig.Git(repo.gitUrl(), "main",
          ".", java.time.Duration.ofMillis(300), java.time.Duration.ofSeconds(5), tmp.resolve("clone").toString(), null))
          .withHttp(new io.langconnect.gitops.config.ControllerConfig.Http(0, "127.0.0.1", null));
      try (Controller controller = new Controller(vertx, here, controllerConfig)) {
        controller.start().await();
        eventually("staging synced on the second cluster", () -> controller.board().get("staging")
            .map(s -> s.result() == EnvironmentStatus.Result.SYNCED && s.revision().equals(first)).orElse(false));

        // As `kubectl set image` does it: no resourceVersion, so the controllers' status writes cannot conflict.
        there.apps().statefulSets().inNamespace(stagingNs).withName("langconnect-postgres")
            .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), "{\"spec\":{\"template\":{\"spec\":{\"containers\":"
                + "[{\"name\":\"postgres\",\"image\":\"registry.example.com/hand-edited:1\"}]}}}}");
        eventually("the hand edit there corrected", () -> !there.apps().statefulSets().inNamespace(stagingNs)
            .withName("langconnect-postgres").get().getSpec().getTemplate().getSpec().getContainers().get(0).getImage()
            .contains("hand-edited"));

        eventually("the data volume there set to Retain", () -> "Retain".equals(PreboundVolume.policy(there, volume)));

        // A database change backs up first; that Job cannot finish on a cluster without a node: the change is held,
        // and the Event saying so is where the environment is.
        String change = repo.write("values-staging.yaml", "namespace: " + stagingNs + "\ncluster: second\n" + image()
            + staging("  resources:\n    requests:\n      memory: 300Mi\n")).commitAndPush("a database change");
        eventually("the database change held", () -> controller.board().get("staging")
            .map(s -> s.result() == EnvironmentStatus.Result.HELD && s.revision().equals(change)).orElse(false));
        assertThat(there.v1().events().inNamespace(stagingNs).list().getItems())
            .anyMatch(e -> e.getReason().equals("DatabaseChangeHeld"));

        CliTest.Run backup = CliTest.run(concat(new String[] {"backup", "--env", "staging", "--values",
            tmp.resolve("values").toString()}, common));
        assertThat(backup.exit()).as(backup.err()).isZero();
        assertThat(there.batch().v1().jobs().inNamespace(stagingNs).withName(backup.out().strip()).get())
            .as("the backup Job, on the environment's cluster").isNotNull();

        String removed = repo.delete("values-staging.yaml").commitAndPush("staging removed");
        eventually("staging pruned there", () -> controller.board().get("staging").isEmpty()
            && there.apps().deployments().inNamespace(stagingNs).list().getItems().isEmpty()
            && there.apps().statefulSets().inNamespace(stagingNs).list().getItems().isEmpty());
        assertThat(removed).isNotBlank();
      }
    } finally {
      there.namespaces().withName(stagingNs).withGracePeriod(0).delete();
      there.persistentVolumes().withName(stagingNs + "-data").delete();
      there.close();
      vertx.close().await();
    }

    AuditLog audit = AuditLog.of(second.auditLog(), SA, started);
    assertThat(audit.forbidden()).as("requests the grants refused").isEmpty();
    // CloudNativePG's grants are used only where its API is served; the second cluster does not run the operator.
    assertThat(audit.used()).as("every grant is used on the target").containsAll(AuditLog.granted(ClusterAddCommand.grants())
        .stream().filter(grant -> !grant.startsWith(io.langconnect.gitops.apply.CloudnativePg.API_VERSION.split("/")[0] + "/"))
        .toList());
  }

  private static String staging(String postgresExtra) {
    return "  autoscaling:\n    enabled: true\npostgres:\n  auth:\n    password: staging\n  persistence:\n"
        + "    enabled: true\n    storageClass: " + PreboundVolume.STORAGE_CLASS + "\n    reclaimPolicy: Retain\n"
        + postgresExtra + "backup:\n  beforeChange: true\n";
  }

  private static String image() {
    return "langconnect:\n  image:\n    repository: registry.example.com/langconnect\n    tag: \"1.0.0\"\n";
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
