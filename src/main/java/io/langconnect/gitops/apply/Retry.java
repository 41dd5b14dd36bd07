package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Retries one API call when the failure is worth retrying (conflicts, throttling, server errors,
 * broken connections), with exponential backoff and jitter. Anything else, such as 422 for an invalid
 * object or 403, fails at once: repeating it cannot help.
 */
public final class Retry {

  private final int attempts;
  private final Duration base;
  private final Duration max;

  public Retry(int attempts, Duration base, Duration max) {
    this.attempts = Math.max(1, attempts);
    this.base = base;
    this.max = max;
  }

  /** The controller's and the CLI's retry of API calls: {@code attempts} in all, 200 ms doubling up to 10 s apart. */
  public static Retry apiCalls(int attempts) {
    return new Retry(attempts, Duration.ofMillis(200), Duration.ofSeconds(10));
  }

  /** No HTTP status (fabric8 reports 0 or -1: timeouts, refused or broken connections), 409, 429 and 5xx. */
  public static boolean isTransient(KubernetesClientException e) {
    int code = e.getCode();
    return code <= 0 || code == 409 || code == 429 || code >= 500;
  }

  /** Full jitter around an exponential step: the n-th wait lies between half and all of base * 2^n. */
  public static Duration backoff(int failures, Duration base, Duration max) {
    long exp = base.toMillis() << Math.min(failures, 20);
    long capped = Math.min(max.toMillis(), exp);
    return Duration.ofMillis(capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1));
  }

  public <T> T call(Supplier<T> call) {
    for (int failure = 0; ; failure++) {
      try {
        return call.get();
      } catch (KubernetesClientException e) {
        if (!isTransient(e) || failure + 1 >= attempts) throw e;
        sleep(backoff(failure, base, max));
      }
    }
  }

  public void run(Runnable call) {
    call(() -> {
      call.run();
      return null;
    });
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KubernetesClientException("interrupted while backing off", e);
    }
  }
}
