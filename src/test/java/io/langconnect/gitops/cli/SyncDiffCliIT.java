package io.langconnect.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.langconnect.gitops.testenv.LocalControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** `sync --once` and `diff` as a user's script runs them, against the local API server. */
@ExtendWith(LocalControlPlane.class)
class SyncDiffCliIT {

  @Test
  void diffThenSyncThenNoDiff(LocalControlPlane plane, @TempDir Path values) throws Exception {
    String ns = plane.uniqueNamespace("it-cli");
    String state = plane.uniqueNamespace("it-cli-state");
    Files.writeString(values.resolve("values-dev.yaml"), """
        namespace: %s
        langconnect:
          image:
            repository: registry.example.com/langconnect
        postgres:
          auth:
            password: dev-password
        """.formatted(ns));
    String[] common = {"--values", values.toString(), "--kubeconfig", plane.kubeconfig(), "--state-namespace", state};

    CliTest.Run before = CliTest.run(concat(new String[] {"diff"}, common));
    assertThat(before.exit()).isEqualTo(1);
    assertThat(before.out()).contains("# dev: StatefulSet/langconnect-postgres (new)", "+++ desired/StatefulSet/langconnect-postgres")
        .doesNotContain("ZGV2LXBhc3N3b3Jk");

    CliTest.Run dryRun = CliTest.run(concat(new String[] {"sync", "--once", "--dry-run"}, common));
    assertThat(dryRun.exit()).isZero();
    assertThat(plane.admin().namespaces().withName(ns).get()).as("a dry run changes nothing").isNull();

    CliTest.Run sync = CliTest.run(concat(new String[] {"sync", "--once", "--database-ready-timeout", "0s"}, common));
    assertThat(sync.exit()).isZero();
    assertThat(sync.out()).startsWith("dev").contains("Synced", "created 5");

    CliTest.Run after = CliTest.run(concat(new String[] {"diff"}, common));
    assertThat(after.exit()).isZero();
    assertThat(after.out()).isEmpty();

    Files.writeString(values.resolve("values-dev.yaml"), Files.readString(values.resolve("values-dev.yaml"))
        .replace("postgres:", "  replicaCount: 2\npostgres:"));
    CliTest.Run changed = CliTest.run(concat(new String[] {"diff", "--env", "dev"}, common));
    assertThat(changed.exit()).isEqualTo(1);
    assertThat(changed.out()).contains("# dev: Deployment/langconnect-langconnect (changed)", "-  replicas: 1", "+  replicas: 2");
  }

  @Test
  void syncOnceRefusesWhileARunningControllerHoldsItsLeaseUnlessForced(LocalControlPlane plane, @TempDir Path values)
      throws Exception {
    String ns = plane.uniqueNamespace("it-cli");
    String state = plane.uniqueNamespace("it-cli-state");
    Files.writeString(values.resolve("values-dev.yaml"), "namespace: " + ns + "\nlangconnect:\n  image:\n"
        + "    repository: registry.example.com/langconnect\npostgres:\n  auth:\n    password: dev-password\n");
    plane.admin().namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName(state).endMetadata().build()).create();
    // As a controller's leader keeps it: held, renewed a moment ago.
    plane.admin().resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder().withNewMetadata()
        .withName("langconnect-gitops").withNamespace(state).endMetadata().withNewSpec()
        .withHolderIdentity("langconnect-gitops-7d9f-abc12").withLeaseDurationSeconds(3600)
        .withRenewTime(java.time.ZonedDateTime.now()).withAcquireTime(java.time.ZonedDateTime.now()).endSpec().build())
        .create();
    String[] common = {"--values", values.toString(), "--kubeconfig", plane.kubeconfig(), "--state-namespace", state,
        "--database-ready-timeout", "0s"};

    CliTest.Run refused = CliTest.run(concat(new String[] {"sync", "--once"}, common));
    assertThat(refused.exit()).isEqualTo(2);
    assertThat(refused.err()).contains("a running controller (langconnect-gitops-7d9f-abc12) holds Lease " + state
        + "/langconnect-gitops").contains("`sync --once` would race it, prunes included").contains("--force");
    assertThat(plane.admin().namespaces().withName(ns).get()).as("nothing applied").isNull();
    assertThat(CliTest.run(concat(new String[] {"sync", "--once", "--dry-run"}, common)).exit())
        .as("a dry run writes nothing, so it races nothing").isZero();

    CliTest.Run forced = CliTest.run(concat(new String[] {"sync", "--once", "--force"}, common));
    assertThat(forced.exit()).as(forced.err()).isZero();
    assertThat(forced.err()).contains("WARNING: a running controller (langconnect-gitops-7d9f-abc12) holds Lease");
  }

  @Test
  void unreachableClusterIsAnErrorOfTwoOrMore(@TempDir Path values, @TempDir Path home) throws Exception {
    Files.writeString(values.resolve("values-dev.yaml"), "langconnect:\n  image:\n    repository: lc\n");
    Path kubeconfig = Files.writeString(home.resolve("config"), """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
        users: [{name: u, user: {token: t}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x
        """);
    CliTest.Run diff = CliTest.run("diff", "--values", values.toString(), "--kubeconfig", kubeconfig.toString());
    assertThat(diff.exit()).isGreaterThanOrEqualTo(2);
    assertThat(diff.err().lines()).last().asString().startsWith("error: cannot reach the Kubernetes API");
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
