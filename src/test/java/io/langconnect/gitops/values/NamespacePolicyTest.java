package io.langconnect.gitops.values;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class NamespacePolicyTest {

  @Test
  void byDefaultEveryNamespaceButKubernetesOwnDefaultAndTheControllersOwn() {
    NamespacePolicy policy = NamespacePolicy.defaults();
    assertThat(policy.allows("langconnect-staging")).isTrue();
    assertThat(policy.allows("team-a")).isTrue();
    assertThat(policy.allows("kube-system")).isFalse();
    assertThat(policy.allows("kube-public")).isFalse();
    assertThat(policy.allows("default")).isFalse();
    assertThat(policy.allows("langconnect-gitops")).isFalse();
  }

  @Test
  void theLastMatchingPatternDecidesAndTheControllersNamespaceIsNeverAllowed() {
    NamespacePolicy policy = new NamespacePolicy(List.of("team-*", "!team-*-prod", "team-a-prod", "ops"), "ops");
    assertThat(policy.allows("team-b")).isTrue();
    assertThat(policy.allows("team-b-prod")).isFalse();
    assertThat(policy.allows("team-a-prod")).isTrue();
    assertThat(policy.allows("langconnect-staging")).isFalse();
    assertThat(policy.allows("ops")).as("the controller's own, even when a pattern names it").isFalse();
    assertThat(new NamespacePolicy(List.of("lc-?"), "x").allows("lc-1")).isTrue();
    assertThat(new NamespacePolicy(List.of("lc-?"), "x").allows("lc-12")).isFalse();
  }

  @Test
  void aMalformedPatternIsRefusedNamingItsPlace() {
    assertThatThrownBy(() -> new NamespacePolicy(List.of("*", "Team_A"), "x"))
        .hasMessage("kubernetes.allowedNamespaces[1]: \"Team_A\" is not a namespace pattern; expected lowercase letters,"
            + " digits, '-', '*' and '?', optionally after '!'");
  }
}
