package io.langconnect.gitops.sync;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.LogCapture;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.SopsTool;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A production values file kept in git encrypted by sops, synced by the whole controller with the age key from its
 * Secret sops-age: the secrets reach LangConnect, a tampered commit is refused with live objects untouched, and no
 * decrypted value shows in logs, status or Events.
 */
@ExtendWith(LocalControlPlane.class)
class EncryptedValuesIT {

  @TempDir
  Path tmp;

  @Test
  void encryptedSecretsReachLangConnectAndATamperedCommitChangesNothing(LocalControlPlane plane) throws Exception {
    KubernetesClient admin = plane.admin();
    String ns = plane.uniqueNamespace("it-sops");
    String stateNs = plane.uniqueNamespace("it-sops-state");
    SopsTool sops = new SopsTool(plane, tmp);
    SopsTool.Key key = sops.newKey();
    createKeySecret(admin, stateNs, key);
    String plain = """
        namespace: %s
        langconnect:
          image:
            repository: registry.example.com/langconnect
        postgres:
          auth:
            password: prod-db-password-1
        secrets:
          OPENAI_API_KEY: sk-live-first
        """.formatted(ns);
    Vertx vertx = Vertx.vertx();
    try (PodReadiness kubelet = PodReadiness.markReady(admin, "it-sops");
         ValuesRepo repo = ValuesRepo.create(plane, tmp.resolve("work"));
         LogCapture log = LogCapture.start()) {
      String regex = "^(password|secrets)$";
      repo.write("values-prod.yaml", sops.encrypt(plain, key.recipient(), "--encrypted-regex", regex))
          .commitAndPush("prod, encrypted");
      try (Controller controller = new Controller(vertx, admin, config(repo, stateNs))) {
        controller.start().await();
        eventually("prod synced", () -> result(controller).equals(Optional.of(EnvironmentStatus.Result.SYNCED)));
        assertThat(secretValue(admin, ns)).isEqualTo("sk-live-first");
        Deployment app = langconnect(admin, ns);
        assertThat(app.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()).anySatisfy(env -> {
          assertThat(env.getName()).isEqualTo("OPENAI_API_KEY");
          assertThat(env.getValueFrom().getSecretKeyRef().getName()).isEqualTo("langconnect-langconnect");
        });
        String checksum = checksum(app);

        // One character of the encrypted key changed in git: the environment fails, nothing live moves.
        String encrypted = sops.encrypt(plain.replace("sk-live-first", "sk-live-second"), key.recipient(),
            "--encrypted-regex", regex);
        int at = encrypted.indexOf("OPENAI_API_KEY: ENC[AES256_GCM,data:") + "OPENAI_API_KEY: ENC[AES256_GCM,data:".length();
        String tampered = encrypted.substring(0, at) + (encrypted.charAt(at) == 'A' ? 'B' : 'A') + encrypted.substring(at + 1);
        String tamperedRevision = repo.write("values-prod.yaml", tampered).commitAndPush("tampered");
        eventually("the tampered commit refused", () -> controller.board().get("prod")
            .map(s -> s.revision().equals(tamperedRevision) && s.result() == EnvironmentStatus.Result.FAILED).orElse(false));
        String message = controller.board().get("prod").orElseThrow().message();
        assertThat(message).contains("values-prod.yaml:9: secrets.OPENAI_API_KEY: cannot be decrypted")
            .contains("live objects left untouched");
        assertThat(secretValue(admin, ns)).isEqualTo("sk-live-first");
        assertThat(checksum(langconnect(admin, ns))).isEqualTo(checksum);

        // The real change: the new key reaches the Secret and rolls LangConnect's pods.
        repo.write("values-prod.yaml", encrypted).commitAndPush("rotate the OpenAI key");
        eventually("the new key applied", () -> "sk-live-second".equals(secretValue(admin, ns)));
        eventually("LangConnect rolls", () -> !checksum(langconnect(admin, ns)).equals(checksum));

        String events = String.join("\n", admin.v1().events().inNamespace(ns).list().getItems().stream()
            .map(e -> e.getReason() + ": " + e.getMessage()).toList());
        assertThat(events).contains("InvalidValues");
        for (String secret : new String[] {"sk-live-first", "sk-live-second", "prod-db-password-1"}) {
          assertThat(log.text()).doesNotContain(secret);
          assertThat(events).doesNotContain(secret);
          assertThat(controller.board().all().toString()).doesNotContain(secret);
        }
      }
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aKeySecretCreatedAfterTheCommitOpensItWithoutAnotherCommit(LocalControlPlane plane) throws Exception {
    KubernetesClient admin = plane.admin();
    String ns = plane.uniqueNamespace("it-sops");
    String stateNs = plane.uniqueNamespace("it-sops-state");
    SopsTool sops = new SopsTool(plane, tmp);
    SopsTool.Key key = sops.newKey();
    Vertx vertx = Vertx.vertx();
    try (PodReadiness kubelet = PodReadiness.markReady(admin, "it-sops");
         ValuesRepo repo = ValuesRepo.create(plane, tmp.resolve("work"))) {
      repo.write("values-staging.yaml", sops.encrypt("""
          namespace: %s
          langconnect:
            image:
              repository: registry.example.com/langconnect
          secrets:
            SUPABASE_KEY: sb-first
          """.formatted(ns), key.recipient())).commitAndPush("staging, encrypted");
      try (Controller controller = new Controller(vertx, admin, config(repo, stateNs))) {
        controller.start().await();
        eventually("refused without a key", () -> controller.board().get("staging")
            .map(s -> s.result() == EnvironmentStatus.Result.FAILED && s.message().contains("no age key is configured"))
            .orElse(false));
        assertThat(admin.namespaces().withName(ns).get()).as("nothing applied").isNull();

        createKeySecret(admin, stateNs, key);
        eventually("synced with the new key, same commit", () -> controller.board().get("staging")
            .map(s -> s.result() == EnvironmentStatus.Result.SYNCED).orElse(false));
        assertThat(admin.secrets().inNamespace(ns).withName("langconnect-langconnect").get().getData())
            .containsKey("SUPABASE_KEY");
      }
    } finally {
      vertx.close().await();
    }
  }

  /** A controller polling {@code repo} every 300 ms, with its Lease and key Secret in {@code stateNs}. */
  private ControllerConfig config(ValuesRepo repo, String stateNs) {
    return ControllerConfig.defaults()
        .withGit(new ControllerConfig.Git(repo.gitUrl(), "main", ".", Duration.ofMillis(300), Duration.ofSeconds(5),
            tmp.resolve("clone").toString(), null))
        .withKubernetes(new ControllerConfig.Kubernetes(stateNs, null, false, "it-sops", null))
        .withHttp(new ControllerConfig.Http(0, "127.0.0.1", null));
  }

  /** As the README tells users: the age key in Secret sops-age (key age.agekey) of the controller's namespace. */
  private static void createKeySecret(KubernetesClient admin, String stateNs, SopsTool.Key key) {
    admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(stateNs).endMetadata().build())
        .serverSideApply();
    admin.secrets().inNamespace(stateNs).resource(new SecretBuilder().withNewMetadata().withName("sops-age")
        .withNamespace(stateNs).endMetadata().addToStringData("age.agekey", key.text()).build()).create();
  }

  private static Optional<EnvironmentStatus.Result> result(Controller controller) {
    return controller.board().get("prod").map(EnvironmentStatus::result);
  }

  private static String secretValue(KubernetesClient admin, String ns) {
    Secret secret = admin.secrets().inNamespace(ns).withName("langconnect-langconnect").get();
    if (secret == null) return null;
    return new String(Base64.getDecoder().decode(secret.getData().get("OPENAI_API_KEY")), StandardCharsets.UTF_8);
  }

  private static Deployment langconnect(KubernetesClient admin, String ns) {
    return admin.apps().deployments().inNamespace(ns).withName("langconnect-langconnect").get();
  }

  private static String checksum(Deployment deployment) {
    Map<String, String> annotations = deployment.getSpec().getTemplate().getMetadata().getAnnotations();
    return annotations.get("langconnect-gitops.io/secret-checksum");
  }
}
