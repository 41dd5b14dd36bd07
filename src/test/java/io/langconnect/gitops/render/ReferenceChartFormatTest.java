package io.langconnect.gitops.render;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.langconnect.gitops.values.Problem;
import io.langconnect.gitops.values.ValuesFolder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A values folder in the reference Helm chart's own format moves over unchanged and renders right. */
class ReferenceChartFormatTest {

  private static ValuesFolder.Environment load(String env) throws IOException {
    return ValuesFolder.load(Path.of("src/test/resources/reference-chart")).stream()
        .filter(e -> e.name().equals(env)).findFirst().orElseThrow();
  }

  private static Deployment deployment(List<HasMetadata> objects, String name) {
    return objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
        .filter(d -> d.getMetadata().getName().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void stagingIsValidWithWarningsOnlyForKeysOutsideTheStack() throws IOException {
    ValuesFolder.Environment staging = load("staging");
    assertThat(staging.isValid()).isTrue();
    assertThat(staging.problems()).noneMatch(Problem::isError)
        .extracting(Problem::keyPath).contains("toolServer", "web", "serviceAccount", "postgres.securityContext");
  }

  @Test
  void stagingRendersTheChartsFacts() throws IOException {
    List<HasMetadata> objects = StackRenderer.render(load("staging").values().get(), Optional.empty());
    Container app = deployment(objects, "langconnect-langconnect").getSpec().getTemplate().getSpec().getContainers().get(0);
    Container db = objects.stream().filter(StatefulSet.class::isInstance).map(StatefulSet.class::cast).findFirst()
        .orElseThrow().getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(app.getImage()).isEqualTo("registry.example.com/rag/langconnect:latest");
    assertThat(app.getImagePullPolicy()).isEqualTo("Always");
    assertThat(app.getEnv()).extracting(EnvVar::getName)
        .containsSubsequence("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB",
            "ALLOW_ORIGINS", "SUPABASE_URL");
    assertThat(app.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health");
    assertThat(app.getResources().getLimits().get("memory").toString()).isEqualTo("512Mi");
    assertThat(db.getResources().getRequests().get("cpu").toString()).isEqualTo("250m");
    assertThat(db.getLivenessProbe().getFailureThreshold()).isEqualTo(6);
    assertThat(objects).noneMatch(PersistentVolumeClaim.class::isInstance);
  }

  @Test
  void prodRendersPersistenceSecretsFromValueFromAndPullSecrets() throws IOException {
    ValuesFolder.Environment prod = load("prod");
    assertThat(prod.problems()).noneMatch(Problem::isError);
    List<HasMetadata> objects = StackRenderer.render(prod.values().get(), Optional.empty());

    PersistentVolumeClaim claim = objects.stream().filter(PersistentVolumeClaim.class::isInstance)
        .map(PersistentVolumeClaim.class::cast).findFirst().orElseThrow();
    assertThat(claim.getSpec().getStorageClassName()).isEqualTo("gp3");
    assertThat(claim.getSpec().getResources().getRequests().get("storage").toString()).isEqualTo("20Gi");

    Deployment langconnect = deployment(objects, "langconnect-langconnect");
    assertThat(langconnect.getSpec().getReplicas()).isEqualTo(2);
    assertThat(langconnect.getSpec().getTemplate().getSpec().getImagePullSecrets())
        .extracting(ref -> ref.getName()).containsExactly("registry-pull-secret");
    EnvVar openai = langconnect.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> e.getName().equals("OPENAI_API_KEY")).findFirst().orElseThrow();
    assertThat(openai.getValueFrom().getSecretKeyRef().getName()).isEqualTo("langconnect-secrets");
  }
}
