package io.langconnect.gitops.testenv;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition on things that change by themselves (controllers, collectors, timers). Conditions
 * read optional fields null-safely: a status not written yet means "not yet", never a crash.
 */
public final class Eventually {

  private static final Duration DEFAULT = Duration.ofSeconds(90);

  private Eventually() {}

  public static void eventually(BooleanSupplier condition) throws InterruptedException {
    eventually("the condition", DEFAULT, condition);
  }

  public static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    eventually(what, DEFAULT, condition);
  }

  public static void eventually(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
      Thread.sleep(50);
    }
  }
}
