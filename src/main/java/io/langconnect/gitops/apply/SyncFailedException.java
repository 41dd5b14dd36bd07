package io.langconnect.gitops.apply;

import java.util.List;

/**
 * A sync that stopped part-way: the message says what failed and what to do; {@code partial} is what
 * was applied before it stopped. Nothing is pruned after a failure.
 */
public final class SyncFailedException extends Exception {

  private final transient List<SyncResult.ObjectResult> partial;
  private final boolean waitingForDatabase;

  public SyncFailedException(String message, List<SyncResult.ObjectResult> partial, boolean waitingForDatabase,
                             Throwable cause) {
    super(message, cause);
    this.partial = List.copyOf(partial);
    this.waitingForDatabase = waitingForDatabase;
  }

  /** The objects were applied up to the database, which did not become available in time: still progressing. */
  public boolean waitingForDatabase() {
    return waitingForDatabase;
  }

  public List<SyncResult.ObjectResult> partial() {
    return partial;
  }
}
