package io.langconnect.gitops.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.Config;
import io.langconnect.gitops.testenv.LogCapture;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A remote cluster's token is read again from its kubeconfig (file or Secret), so rotating it needs no restart. */
class RemoteClustersTest {

  /** A clock the test moves. */
  private static final class TestClock extends Clock {
    private Instant now = Instant.parse("2026-12-01T00:00:00Z");

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  private static String kubeconfig(String server, String ca, String token) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: target
          cluster:
            server: %s
            certificate-authority-data: %s
        users:
        - name: gitops
          user:
            token: %s
        contexts:
        - name: target
          context: {cluster: target, user: gitops}
        current-context: target
        """.formatted(server, ca, token);
  }

  /** The provider of cluster eu-prod, whose kubeconfig is read from {@code file}. */
  private static RemoteClusters.RereadToken provider(AtomicReference<String> file, TestClock clock) {
    return new RemoteClusters.RereadToken("eu-prod", file::get, Config.fromKubeconfig(file.get()), clock);
  }

  @Test
  void aRotatedTokenIsUsedOnceTheLastReadIsOlderThanThirtySecondsAndABrokenOneKeepsTheLastGood() throws Exception {
    AtomicReference<String> file = new AtomicReference<>(kubeconfig("https://10.0.0.1:6443", "Q0EtMQ==", "token-a"));
    TestClock clock = new TestClock();
    RemoteClusters.RereadToken provider = provider(file, clock);
    assertThat(provider.getToken()).isEqualTo("token-a");

    file.set(kubeconfig("https://10.0.0.1:6443", "Q0EtMQ==", "token-b"));
    clock.advance(Duration.ofSeconds(29));
    assertThat(provider.getToken()).as("read at most every 30 s").isEqualTo("token-a");
    clock.advance(Duration.ofSeconds(2));
    assertThat(provider.getToken()).as("rotated").isEqualTo("token-b");

    try (LogCapture log = LogCapture.start()) {
      file.set("not: [a kubeconfig");
      clock.advance(Duration.ofSeconds(31));
      assertThat(provider.getToken()).isEqualTo("token-b");
      assertThat(log.text()).contains("cluster eu-prod: cannot read its kubeconfig again")
          .contains("keeping the token read before");
    }
  }

  @Test
  void anotherServerOrCaInTheKubeconfigIsSaidOnceNotFollowed() throws Exception {
    AtomicReference<String> file = new AtomicReference<>(kubeconfig("https://10.0.0.1:6443", "Q0EtMQ==", "token-a"));
    TestClock clock = new TestClock();
    RemoteClusters.RereadToken provider = provider(file, clock);
    try (LogCapture log = LogCapture.start()) {
      file.set(kubeconfig("https://10.0.0.2:6443", "Q0EtMg==", "token-c"));
      for (int i = 0; i < 3; i++) {
        clock.advance(Duration.ofSeconds(31));
        assertThat(provider.getToken()).isEqualTo("token-c");
      }
      assertThat(log.text().lines().filter(l -> l.contains("now names another server or CA")).toList()).singleElement()
          .asString().contains("cluster eu-prod").contains("https://10.0.0.2:6443")
          .contains("keeps using https://10.0.0.1:6443/ until it is restarted");

      file.set(kubeconfig("https://10.0.0.1:6443", "Q0EtMQ==", "token-d"));
      clock.advance(Duration.ofSeconds(31));
      assertThat(provider.getToken()).isEqualTo("token-d");
      assertThat(log.text()).contains("cluster eu-prod: its kubeconfig names the server and CA in use again");
    }
  }
}
