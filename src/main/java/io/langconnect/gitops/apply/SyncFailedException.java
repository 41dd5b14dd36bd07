package io.langconnect.gitops.apply;

import java.util.List;

/**
 * A sync that stopped part-way or did not start: the message says what failed and what to do; {@code partial} is
 * what was applied before it stopped. Nothing is pruned after a failure.
 */
public final class SyncFailedException extends Exception {

  /** Why it stopped. */
  public enum Reason {
    /** The API server refused or did not answer. */
    API_ERROR,
    /** Applied up to the database, which did not become available in time: still progressing. */
    DATABASE_NOT_READY,
    /** Objects of the same names exist and are not this environment's: nothing was applied. */
    NOT_OURS
  }

  private final transient List<SyncResult.ObjectResult> partial;
  private final Reason reason;

  public SyncFailedException(String message, List<SyncResult.ObjectResult> partial, Reason reason, Throwable cause) {
    super(message, cause);
    this.partial = List.copyOf(partial);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  public List<SyncResult.ObjectResult> partial() {
    return partial;
  }
}
