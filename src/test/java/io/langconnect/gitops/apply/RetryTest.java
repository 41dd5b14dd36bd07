package io.langconnect.gitops.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RetryTest {

  @Test
  void backoffGrowsWithJitterAndStaysUnderTheCap() {
    Duration base = Duration.ofMillis(100);
    Duration max = Duration.ofSeconds(5);
    for (int failures = 0; failures < 30; failures++) {
      long step = Math.min(max.toMillis(), base.toMillis() << Math.min(failures, 20));
      assertThat(Retry.backoff(failures, base, max).toMillis()).isBetween(step / 2, step);
    }
  }

  @Test
  void transientErrorsAreRetriedAndPermanentOnesAreNot() {
    Retry retry = new Retry(4, Duration.ofMillis(1), Duration.ofMillis(2));
    AtomicInteger calls = new AtomicInteger();
    assertThat(retry.call(() -> {
      if (calls.incrementAndGet() < 3) throw new KubernetesClientException("busy", 429, null);
      return "done";
    })).isEqualTo("done");
    assertThat(calls).hasValue(3);

    AtomicInteger timeouts = new AtomicInteger();
    assertThat(retry.call(() -> {
      if (timeouts.incrementAndGet() < 2) throw new KubernetesClientException("The timeout period of 1000ms has been exceeded", -1, null);
      return "answered";
    })).isEqualTo("answered");

    AtomicInteger invalid = new AtomicInteger();
    assertThatThrownBy(() -> retry.call(() -> {
      invalid.incrementAndGet();
      throw new KubernetesClientException("invalid", 422, null);
    })).isInstanceOf(KubernetesClientException.class);
    assertThat(invalid).hasValue(1);
  }
}
