package io.langconnect.gitops.git;

/**
 * Which of two revisions of the values came first: a controller never applies a revision older than the one an
 * environment's inventory records (another shard, or a replica that fetched later, applied the newer one).
 */
public interface RevisionHistory {

  enum Order {
    /** {@code applying} is an ancestor of {@code recorded}: applying it would undo newer commits. */
    OLDER,
    /** The same, newer, or not comparable (a folder of values, history rewritten by a force push). */
    NOT_OLDER,
    /** The history could not be read now (a fetch failed): tried again later. */
    UNKNOWN
  }

  Order order(String applying, String recorded);

  /** Values from a folder: revisions are no commits, and nothing is ordered. */
  RevisionHistory NONE = (applying, recorded) -> Order.NOT_OLDER;
}
