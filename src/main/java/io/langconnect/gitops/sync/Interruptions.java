package io.langconnect.gitops.sync;

import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;

/** Tells an interrupted call (the controller stopping, the Lease lost) from a real failure. */
final class Interruptions {

  private Interruptions() {}

  /** True when this thread was interrupted, or {@code failure} was caused by an interruption (a timeout is not one). */
  static boolean isInterruption(Throwable failure) {
    if (Thread.currentThread().isInterrupted()) return true;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof InterruptedException) return true;
      if (t instanceof InterruptedIOException && !(t instanceof SocketTimeoutException)) return true;
    }
    return false;
  }
}
