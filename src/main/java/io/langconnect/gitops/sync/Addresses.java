package io.langconnect.gitops.sync;

/** Event-bus addresses: one per fact. */
public final class Addresses {

  /** A new commit was fetched and read: a {@link Revision}. */
  public static final String REVISION_FETCHED = "revision.fetched";
  /**
   * Sync now: {@code {environment?}} (all environments when absent), a {@code reason}, and for drift the changed
   * object's {@code namespace}.
   */
  public static final String SYNC_REQUESTED = "sync.requested";
  /** Read an environment's health again (an object's status moved): {@code {environment, namespace}}. */
  public static final String HEALTH_REQUESTED = "health.requested";
  /** An environment finished a sync: {@code {environment, revision, result}}. */
  public static final String SYNC_FINISHED = "sync.finished";
  /** Ask the remote now instead of at the next poll (webhooks): {@code {after?}}. */
  public static final String POLL_REQUESTED = "git.poll.requested";

  private Addresses() {}
}
