package io.langconnect.gitops.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class ObjectDiffTest {

  private static Secret secret(String value, String resourceVersion) {
    return new SecretBuilder().withNewMetadata().withName("db").withNamespace("ns").withResourceVersion(resourceVersion)
        .endMetadata().addToData("postgres-password", value).build();
  }

  @Test
  void sameObjectsGiveNoDiffWhateverTheServerKeeps() {
    assertThat(ObjectDiff.between(secret("c2VjcmV0", "41"), secret("c2VjcmV0", null))).isEmpty();
  }

  @Test
  void secretChangesShowWithoutTheirValues() {
    List<String> diff = ObjectDiff.between(secret("b2xkLXNlY3JldA==", "41"), secret("bmV3LXNlY3JldA==", null));
    assertThat(diff).anyMatch(l -> l.startsWith("-  postgres-password: (hidden, sha256 "))
        .anyMatch(l -> l.startsWith("+  postgres-password: (hidden, sha256 "));
    assertThat(String.join("\n", diff)).doesNotContain("b2xkLXNlY3JldA==", "bmV3LXNlY3JldA==", "old-secret", "new-secret");
  }

  @Test
  void newObjectIsAllAdditions() {
    List<String> diff = ObjectDiff.between(null, secret("eA==", null));
    assertThat(diff.get(0)).isEqualTo("--- /dev/null");
    assertThat(diff.stream().filter(l -> l.startsWith("+") && !l.startsWith("+++"))).contains("+kind: Secret");
  }
}
