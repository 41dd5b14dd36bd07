package io.langconnect.gitops.render;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.values.EnvironmentValues;
import io.langconnect.gitops.values.ValuesFixture;
import java.lang.reflect.Method;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Every rendered object, printed as YAML and read back by fabric8, is the same object and has no
 * property fabric8's model does not know (which would land in additionalProperties and be a typo
 * the API server might drop).
 */
class RoundTripTest {

  private static final String EVERYTHING = """
      imagePullSecrets:
        - name: registry-credentials
      podLabels:
        team: rag
      langconnect:
        image:
          repository: registry.example.com/langconnect
        autoscaling:
          enabled: true
          targetMemoryUtilizationPercentage: 70
        env:
          - name: OPENAI_API_KEY
            valueFrom:
              secretKeyRef:
                name: openai
                key: api-key
        tolerations:
          - key: dedicated
            operator: Equal
            value: rag
            effect: NoSchedule
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
                - matchExpressions:
                    - key: kubernetes.io/arch
                      operator: In
                      values: [amd64]
      postgres:
        auth:
          password: round-trip
        persistence:
          enabled: true
        nodeSelector:
          disktype: ssd
        resources:
          requests:
            cpu: 250m
            memory: 256Mi
      """;

  @Test
  void everyObjectSurvivesYamlAndHasNoUnknownProperties() throws Exception {
    KubernetesSerialization serialization = new KubernetesSerialization();
    EnvironmentValues values = ValuesFixture.folder().env("staging", EVERYTHING).valid("staging");
    List<HasMetadata> objects = StackRenderer.render(values, Optional.of("abc"));
    assertThat(objects).hasSize(9);

    for (HasMetadata object : objects) {
      String yaml = YamlDocuments.write(List.of(object));
      HasMetadata parsed = serialization.unmarshal(yaml);
      assertThat(parsed).as(object.getKind()).isEqualTo(object);
      assertNoAdditionalProperties(parsed, object.getKind());
    }
  }

  private static void assertNoAdditionalProperties(Object node, String path) throws Exception {
    if (node == null) return;
    if (node instanceof Collection<?> items) {
      for (Object item : items) assertNoAdditionalProperties(item, path + "[]");
      return;
    }
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) assertNoAdditionalProperties(e.getValue(), path + "." + e.getKey());
      return;
    }
    if (!node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) return;
    for (Method getter : node.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
        continue;
      }
      Object value = getter.invoke(node);
      if (getter.getName().equals("getAdditionalProperties")) {
        assertThat((Map<?, ?>) value).as("unknown properties at " + path).isNullOrEmpty();
      } else {
        assertNoAdditionalProperties(value, path + "." + getter.getName().substring(3));
      }
    }
  }
}
