package io.langconnect.gitops.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @TempDir
  Path dir;

  @Test
  void exampleConfigLoads() {
    ControllerConfig config = ConfigLoader.load(Optional.of(Path.of("config/controller.yaml")), Map.of());
    assertThat(config.git().url()).startsWith("https://");
    assertThat(config.git().interval()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.sync().driftInterval()).isEqualTo(Duration.ofHours(1));
    assertThat(config.decryption().ageKeySecret()).isEqualTo("sops-age");
    assertThat(config.decryption().ageKeyFile()).isNull();
  }

  @Test
  void theAgeKeyFileCanComeFromTheEnvironment() {
    ControllerConfig config = ConfigLoader.load(Optional.empty(),
        Map.of("LANGCONNECT_GITOPS_DECRYPTION_AGE_KEY_FILE", "/etc/age/keys.txt"));
    assertThat(config.decryption().ageKeyFile()).isEqualTo("/etc/age/keys.txt");
    assertThat(config.decryption().ageKeySecret()).isEqualTo("sops-age");
  }

  @Test
  void environmentOverridesTheFileAndDefaultsFillTheRest() throws IOException {
    Path file = Files.writeString(dir.resolve("c.yaml"), "git:\n  url: https://example.com/a.git\n  interval: 2m\n");
    ControllerConfig config = ConfigLoader.load(Optional.of(file), Map.of(
        "LANGCONNECT_GITOPS_GIT_INTERVAL", "15s",
        "LANGCONNECT_GITOPS_SYNC_DATABASE_READY_TIMEOUT", "90s",
        "LANGCONNECT_GITOPS_HTTP_PORT", "9000"));
    assertThat(config.git().url()).isEqualTo("https://example.com/a.git");
    assertThat(config.git().interval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(config.git().branch()).isEqualTo("main");
    assertThat(config.sync().databaseReadyTimeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(config.http().port()).isEqualTo(9000);
    assertThat(config.kubernetes().stateNamespace()).isEqualTo("langconnect-gitops");
  }

  @Test
  void unknownKeyIsOneLineNamingFileAndKey() throws IOException {
    Path file = Files.writeString(dir.resolve("c.yaml"), "git:\n  intervall: 2m\n");
    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(file), Map.of()))
        .hasMessageStartingWith(file + ": git.intervall: unknown key; expected one of ")
        .hasMessageContaining("interval");
  }

  @Test
  void logsAreTextUnlessJsonIsAskedForAndAnythingElseIsOneLine() throws IOException {
    assertThat(ConfigLoader.load(Optional.empty(), Map.of()).logging().json()).isFalse();
    assertThat(ConfigLoader.load(Optional.empty(), Map.of("LANGCONNECT_GITOPS_LOGGING_FORMAT", "json")).logging().json())
        .isTrue();
    Path file = Files.writeString(dir.resolve("c.yaml"), "logging:\n  format: yaml\n");
    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(file), Map.of()))
        .hasMessage(file + ": logging.format: \"yaml\" is not a log format; expected text or json");
  }

  @Test
  void badDurationNamesTheKey() throws IOException {
    Path file = Files.writeString(dir.resolve("c.yaml"), "sync:\n  driftInterval: soon\n");
    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(file), Map.of()))
        .hasMessage(file + ": sync.driftInterval: \"soon\" is not a duration; expected e.g. 30s, 5m, 1h30m or 500ms");
  }

  @Test
  void durationsReadAsOperatorsWriteThem() {
    assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThatThrownBy(() -> Durations.parse("5 minutes")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void allowedNamespacesComeFromTheFileOrACommaSeparatedVariable() throws IOException {
    Path file = Files.writeString(dir.resolve("c.yaml"), "kubernetes:\n  allowedNamespaces: [\"langconnect-*\", \"!langconnect-gitops-*\"]\n");
    assertThat(ConfigLoader.load(Optional.of(file), Map.of()).kubernetes().namespacePolicy().allows("langconnect-prod")).isTrue();
    assertThat(ConfigLoader.load(Optional.of(file), Map.of()).kubernetes().namespacePolicy().allows("team-a")).isFalse();
    ControllerConfig fromEnv = ConfigLoader.load(Optional.empty(),
        Map.of("LANGCONNECT_GITOPS_KUBERNETES_ALLOWED_NAMESPACES", "team-*, ops"));
    assertThat(fromEnv.kubernetes().allowedNamespaces()).containsExactly("team-*", "ops");
    assertThat(ControllerConfig.defaults().kubernetes().namespacePolicy().allows("kube-system")).isFalse();
  }

  @Test
  void aMalformedNamespacePatternNamesTheKey() throws IOException {
    Path file = Files.writeString(dir.resolve("c.yaml"), "kubernetes:\n  allowedNamespaces: [\"Team_A\"]\n");
    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(file), Map.of()))
        .hasMessageContaining(file + ": kubernetes")
        .hasMessageContaining("kubernetes.allowedNamespaces[0]: \"Team_A\" is not a namespace pattern");
  }

  @Test
  void clustersAreNamedWithAKubeconfigFileOrSecretAndAllowedForValues() throws IOException {
    Path file = Files.writeString(dir.resolve("c.yaml"), "clusters:\n  eu-prod:\n    kubeconfigSecret: cluster-eu-prod\n"
        + "  us-prod:\n    kubeconfigFile: /etc/langconnect-gitops/clusters/us-prod\n");
    ControllerConfig config = ConfigLoader.load(Optional.of(file), Map.of());
    assertThat(config.clusters().get("eu-prod").kubeconfigSecret()).isEqualTo("cluster-eu-prod");
    assertThat(config.namespacePolicy().clusters()).containsExactly("eu-prod", "in-cluster", "us-prod");
    assertThat(ControllerConfig.defaults().namespacePolicy().clusters()).containsExactly("in-cluster");
  }

  @Test
  void aClusterNeedsExactlyOneKubeconfigAndAName() throws IOException {
    Path both = Files.writeString(dir.resolve("both.yaml"),
        "clusters:\n  eu:\n    kubeconfigFile: /a\n    kubeconfigSecret: b\n");
    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(both), Map.of())).hasMessageContaining(both.toString())
        .hasMessageContaining("clusters.eu: expected exactly one of kubeconfigFile (a path) and kubeconfigSecret");
    Path own = Files.writeString(dir.resolve("own.yaml"), "clusters:\n  in-cluster:\n    kubeconfigFile: /a\n");
    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(own), Map.of()))
        .hasMessageContaining("clusters.in-cluster: not a cluster name").hasMessageContaining("the controller's own cluster");
  }

  @Test
  void aShardNamesConfiguredClustersAndTakesALeaseOfItsOwn() throws IOException {
    Path file = Files.writeString(dir.resolve("shard.yaml"), "clusters:\n  eu-prod:\n    kubeconfigSecret: c\n"
        + "shard:\n  clusters: [eu-prod, in-cluster]\n");
    ControllerConfig config = ConfigLoader.load(Optional.of(file), Map.of());
    assertThat(config.shard().includes("eu-prod")).isTrue();
    assertThat(config.shard().includes("us-prod")).isFalse();
    assertThat(config.leaseName()).isEqualTo("langconnect-gitops-eu-prod-in-cluster");
    assertThat(ControllerConfig.defaults().leaseName()).isEqualTo("langconnect-gitops");
    assertThat(ConfigLoader.load(Optional.of(file), Map.of("LANGCONNECT_GITOPS_SHARD_CLUSTERS", "in-cluster")).leaseName())
        .isEqualTo("langconnect-gitops-in-cluster");
    Path unknown = Files.writeString(dir.resolve("unknown.yaml"), "shard:\n  clusters: [us-prod]\n");
    assertThatThrownBy(() -> ConfigLoader.load(Optional.of(unknown), Map.of()))
        .hasMessageContaining("shard.clusters: \"us-prod\" is not a cluster; expected in-cluster or a name under clusters:");
  }

  @Test
  void notificationsAreOffByDefaultAndEachMistakeIsOneLineNamingItsKey() throws IOException {
    assertThat(ConfigLoader.load(Optional.empty(), Map.of()).notifications().commitStatus()).isNull();
    Path good = Files.writeString(dir.resolve("good.yaml"), """
        notifications:
          commitStatus: {provider: github, tokenFile: /etc/forge/token}
          webhooks:
          - {url: https://hooks.example.com/ops, secretFile: /etc/hooks/ops}
          - {name: chat, url: https://hooks.slack.com/services/T/B/X, format: slack, events: [failed, recovered]}
        """);
    ControllerConfig.Notifications notifications = ConfigLoader.load(Optional.of(good), Map.of()).notifications();
    assertThat(notifications.commitStatus().url()).isEqualTo("https://api.github.com");
    assertThat(notifications.webhooks()).extracting(ControllerConfig.NotificationWebhook::name)
        .containsExactly("hooks.example.com", "chat");
    assertThat(notifications.webhooks().get(0).events()).containsExactly("failed", "degraded", "held", "recovered");

    Map<String, String> mistakes = Map.of(
        "notifications:\n  commitStatus: {provider: bitbucket, tokenFile: /t}\n",
        ": notifications.commitStatus.provider: \"bitbucket\" is not a forge; expected github, gitlab or gitea",
        "notifications:\n  commitStatus: {provider: gitea, tokenFile: /t}\n",
        ": notifications.commitStatus.url: missing; expected the address of the Gitea server, e.g. https://gitea.example.com",
        "notifications:\n  commitStatus: {provider: gitlab}\n",
        ": notifications.commitStatus.tokenFile: missing; expected the path of a file holding the forge's API token (a mounted Secret)",
        "notifications:\n  webhooks: [{name: ops, url: https://h.example.com, format: teams}]\n",
        ": notifications.webhooks.ops.format: \"teams\" is not a format; expected generic or slack",
        "notifications:\n  webhooks: [{name: ops, url: https://h.example.com, events: [synced]}]\n",
        ": notifications.webhooks.ops.events: \"synced\" is not an event; expected some of failed, degraded, held, recovered",
        "notifications:\n  webhooks: [{name: ops, url: https://a.example.com}, {name: ops, url: https://b.example.com}]\n",
        ": notifications.webhooks[1].name: \"ops\" is used twice; expected a name of its own for each webhook");
    int i = 0;
    for (var mistake : mistakes.entrySet()) {
      Path file = Files.writeString(dir.resolve("bad-" + i++ + ".yaml"), mistake.getKey());
      assertThatThrownBy(() -> ConfigLoader.load(Optional.of(file), Map.of())).hasMessage(file + mistake.getValue());
    }
  }
}
