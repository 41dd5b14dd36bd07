package io.langconnect.gitops.testenv;

import io.vertx.sqlclient.ClosedConnectionException;
import java.time.Duration;
import java.util.function.Supplier;

/** A client of a database on the test node right after its pod or its Service changed, as a user's client would be. */
public final class DatabaseSettling {

  private DatabaseSettling() {}

  /**
   * Runs {@code once} again, for up to a minute, while it fails as a database does for a moment after a restart or
   * a rollout (still starting: 57P03; refused, unroutable or reset while kube-proxy catches up; closed under it);
   * any other failure is thrown at once.
   */
  public static <T> T retry(Supplier<T> once) {
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (true) {
      try {
        return once.get();
      } catch (RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        boolean settling = message.contains("57P03") || message.contains("Connection refused")
            || message.contains("No route to host") || message.contains("Connection reset")
            || e.getCause() instanceof ClosedConnectionException;
        if (!settling || System.nanoTime() > deadline) throw e;
        try {
          Thread.sleep(500);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }
}
