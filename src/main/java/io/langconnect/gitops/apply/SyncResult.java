package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;

/**
 * What one apply (or prune) of an environment did, object by object; {@code left} holds each object as the sync left
 * it (the apply's answer, or the live object it did not need to write), so that health right after the sync needs no
 * read.
 */
public record SyncResult(List<ObjectResult> objects, Inventory inventory, java.util.Map<ObjectRef, HasMetadata> left) {

  public SyncResult(List<ObjectResult> objects, Inventory inventory) {
    this(objects, inventory, java.util.Map.of());
  }

  /**
   * SKIPPED: the render no longer has it, but the live object is not ours, so it was left alone. HELD: a change
   * that would restart the database waits (its backup failed); the note says why.
   */
  public enum Action { CREATED, CONFIGURED, UNCHANGED, PRUNED, RETAINED, SKIPPED, HELD }

  /**
   * {@code driftedPaths} is non-empty when the object was re-applied because someone changed it in the cluster;
   * {@code note} says why an object was skipped.
   */
  public record ObjectResult(ObjectRef ref, Action action, List<String> driftedPaths, String note) {
    public ObjectResult(ObjectRef ref, Action action, List<String> driftedPaths) {
      this(ref, action, driftedPaths, "");
    }

    public boolean driftCorrected() {
      return !driftedPaths.isEmpty();
    }
  }

  public SyncResult {
    objects = List.copyOf(objects);
    left = java.util.Map.copyOf(left);
  }

  public long count(Action action) {
    return objects.stream().filter(o -> o.action() == action).count();
  }

  /** What a prune kept, in words: the volume claims, and a generated password when it kept one. */
  public String kept() {
    long claims = objects.stream().filter(o -> o.action() == Action.RETAINED && o.ref().kind().equals("PersistentVolumeClaim"))
        .count();
    boolean password = objects.stream().anyMatch(o -> o.action() == Action.RETAINED && o.ref().kind().equals("Secret"));
    return claims + " volume claim(s)" + (password ? ", the generated password Secret" : "");
  }

  public java.util.Optional<ObjectResult> held() {
    return objects.stream().filter(o -> o.action() == Action.HELD).findFirst();
  }

  /** The database workload a sync stopped for its successor (a Deployment of an earlier release), if any. */
  public java.util.Optional<ObjectResult> replacedDatabase() {
    return objects.stream().filter(o -> o.action() == Action.PRUNED && o.note().startsWith(Applier.REPLACED)).findFirst();
  }

  public boolean changedAnything() {
    return objects.stream().anyMatch(o -> o.action() != Action.UNCHANGED);
  }

  /** The sync in words, as its status message begins: "in sync", or the counts ("would have ..." for a preview). */
  public String summary(boolean preview) {
    if (!changedAnything()) return "in sync";
    return (preview ? "would have " : "") + "created " + count(Action.CREATED) + ", configured " + count(Action.CONFIGURED)
        + ", pruned " + count(Action.PRUNED) + ", unchanged " + count(Action.UNCHANGED) + skippedNote();
  }

  /** ", skipped N not ours: ..." naming the objects left alone because they are not ours, or "". */
  public String skippedNote() {
    long skipped = count(Action.SKIPPED);
    return skipped == 0 ? "" : ", skipped " + skipped + " not ours: " + objects.stream()
        .filter(o -> o.action() == Action.SKIPPED).map(o -> o.ref() + " in " + o.ref().namespace())
        .collect(java.util.stream.Collectors.joining(", "));
  }
}
