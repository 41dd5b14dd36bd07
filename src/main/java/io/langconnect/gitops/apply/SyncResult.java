package io.langconnect.gitops.apply;

import java.util.List;

/** What one apply (or prune) of an environment did, object by object. */
public record SyncResult(List<ObjectResult> objects, Inventory inventory) {

  public enum Action { CREATED, CONFIGURED, UNCHANGED, PRUNED, RETAINED }

  /** {@code driftedPaths} is non-empty when the object was re-applied because someone changed it in the cluster. */
  public record ObjectResult(ObjectRef ref, Action action, List<String> driftedPaths) {
    public boolean driftCorrected() {
      return !driftedPaths.isEmpty();
    }
  }

  public SyncResult {
    objects = List.copyOf(objects);
  }

  public long count(Action action) {
    return objects.stream().filter(o -> o.action() == action).count();
  }

  public boolean changedAnything() {
    return objects.stream().anyMatch(o -> o.action() != Action.UNCHANGED);
  }
}
