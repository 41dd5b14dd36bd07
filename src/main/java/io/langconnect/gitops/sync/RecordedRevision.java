package io.langconnect.gitops.sync;

import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.git.RevisionHistory;
import java.util.Optional;

/** A revision set against the one an environment's inventory records: an older one is never applied over it. */
final class RecordedRevision {

  private RecordedRevision() {}

  /**
   * A revision older than the one the inventory records is not applied (nor a removal at it pruned): another shard,
   * or a replica that fetched later, applied the newer one, and going back would undo it (an environment bounced
   * between clusters). Returns why it waits, or empty.
   */
  static Optional<String> olderThan(RevisionHistory history, Inventory recorded, String revision) {
    if (recorded.revision().isEmpty()) return Optional.empty();
    String applying = abbreviated(revision);
    String newer = abbreviated(recorded.revision());
    return switch (history.order(revision, recorded.revision())) {
      case OLDER -> Optional.of("revision " + applying + " is older than " + newer + ", which its inventory records"
          + " (applied by another controller, or a replica that fetched later): nothing applied; tried again once this"
          + " controller has fetched it");
      case UNKNOWN -> Optional.of("revision " + applying + " could not be ordered against " + newer + ", which its"
          + " inventory records (the repository could not be read now): nothing applied; tried again");
      case NOT_OLDER -> Optional.empty();
    };
  }

  private static String abbreviated(String revision) {
    return revision.length() > 12 ? revision.substring(0, 12) : revision;
  }
}
