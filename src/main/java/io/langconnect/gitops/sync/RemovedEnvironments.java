package io.langconnect.gitops.sync;

import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.SyncResult;
import io.langconnect.gitops.cluster.Clusters;
import io.langconnect.gitops.control.ControlStore;
import io.langconnect.gitops.git.RevisionHistory;
import io.langconnect.gitops.status.EnvironmentStatus.ObjectStatus;
import io.langconnect.gitops.status.EnvironmentStatus.Result;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.SyncRecord;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Environments whose values file was removed: pruned (claims, the password Secret and the namespace kept), or held
 * for {@code prune --confirm} when production or when every values file went at once.
 */
final class RemovedEnvironments {

  private static final Logger LOG = LoggerFactory.getLogger(RemovedEnvironments.class);

  private final InventoryStore inventories;
  private final ControlStore controls;
  private final Clusters clusters;
  private final SyncRecord record;
  private final RevisionHistory history;
  private final Departures departures;

  RemovedEnvironments(SyncService.Cluster cluster, SyncRecord record, RevisionHistory history, Departures departures) {
    this.inventories = cluster.inventories();
    this.controls = cluster.controls();
    this.clusters = cluster.targets();
    this.record = record;
    this.history = history;
    this.departures = departures;
  }

  private EnvironmentStatus finish(SyncRun.Outcome outcome) {
    return outcome.finish(record);
  }

  /** Environments of this controller's shard that have an inventory but no values file any more. */
  List<String> names(Collection<String> present) {
    return inventories.environments(clusters::syncs).stream().filter(env -> !present.contains(env)).toList();
  }

  /**
   * Prunes an environment whose values file was removed; its PVCs and namespace stay. A production environment,
   * or any environment when every values file is gone at once, waits for {@code prune --confirm}: a commit that
   * empties the folder by mistake then prunes nothing. A suspended environment is not pruned at all.
   */
  EnvironmentStatus prune(String environment, String revision, boolean dryRun, boolean everyFileRemoved) {
    try (var logged = LogContext.of(environment, "", revision)) {
      return pruneRemovedLogged(environment, revision, dryRun, everyFileRemoved);
    }
  }

  private EnvironmentStatus pruneRemovedLogged(String environment, String revision, boolean dryRun,
                                               boolean everyFileRemoved) {
    SyncRun run = new SyncRun(environment, revision, dryRun, Instant.now(), Optional.empty());
    try {
      Optional<Inventory> inventory;
      try {
        inventory = inventories.read(environment);
      } catch (InventoryStore.InvalidInventoryException e) {
        String message = e.getMessage() + ": nothing was pruned; fix or delete it to go on";
        LOG.warn("{}: {}", environment, message);
        return finish(run.outcome("", Result.FAILED, message));
      }
      if (inventory.isEmpty()) return finish(run.outcome("", Result.PRUNED, "nothing to prune"));
      String namespace = inventory.get().namespace();
      run.cluster = inventory.get().cluster();
      if (!clusters.knows(run.cluster)) {
        // A controller restarted without the cluster cannot see what is there: it prunes nothing it cannot see.
        return finish(run.outcome(namespace, Result.FAILED, "values file removed, but its objects are on cluster "
            + run.cluster + ", which the controller config no longer names: nothing was pruned. "
            + departures.forgetOrAddBack(run.cluster, InventoryStore.configMapName(environment))));
      }
      run.target = clusters.get(run.cluster);
      run.controls = controls.read(environment);
      if (run.controls.suspended()) {
        return finish(run.outcome(namespace, Result.SUSPENDED, run.controls.suspension().get().describe()
            + "; its values file was removed, nothing is pruned while it is suspended"));
      }
      Optional<String> older = RecordedRevision.olderThan(history, inventory.get(), revision);
      if (older.isPresent()) return finish(run.outcome(namespace, Result.PROGRESSING, "values file removed at " + older.get()));
      boolean production = inventory.get().production();
      if ((production || everyFileRemoved) && !run.controls.pruneConfirmed(inventory.get().revision())) {
        String message = "values file removed" + (everyFileRemoved ? " with every other values file" : "")
            + "; pruning " + (production ? "the production environment " : "") + environment + " is held: nothing was"
            + " deleted. Run `langconnect-gitops prune --env " + environment + " --confirm` to prune it (volume"
            + " claims and the namespace are kept), or restore its values file";
        if (!dryRun && record.last(environment).map(s -> s.result() != Result.PRUNE_HELD).orElse(true)) {
          run.target.events().warning(namespace, "PruneHeld", message);
        }
        return finish(run.outcome(namespace, Result.PRUNE_HELD, message));
      }
      // What earlier moves left elsewhere goes first: the inventory (and with it the retry) stays until it has.
      List<String> notPruned = departures.pruneDeparted(run, "", dryRun);
      if (!notPruned.isEmpty()) {
        return finish(run.outcome(namespace, Result.FAILED, "values file removed; nothing pruned yet: "
            + String.join("; ", notPruned)));
      }
      if (!run.leftRunning.isEmpty()) {
        // Its data may live only there: the environment's own records stay until that database is pruned on purpose.
        return finish(run.outcome(namespace, Result.PRUNE_HELD, "values file removed; nothing pruned yet: "
            + String.join("; ", run.leftRunning)));
      }
      SyncResult result = run.target.applier().pruneAll(inventory.get(), dryRun);
      if (!dryRun) {
        inventories.delete(environment);
        controls.delete(environment);
        Departures.reportSkipped(run.target, namespace, result);
      }
      run.objects = result.objects().stream().map(ObjectStatus::of).toList();
      String message = "values file removed: pruned " + result.count(SyncResult.Action.PRUNED) + " object(s), kept "
          + result.kept() + " and the namespace"
          + result.skippedNote();
      EnvironmentStatus status = finish(run.outcome(namespace, Result.PRUNED, message));
      if (!dryRun) record.removed(environment);
      return status;
    } catch (RuntimeException e) {
      if (Interruptions.isInterruption(e)) return run.interrupted("", record);
      return finish(run.outcome("", Result.FAILED, run.where() + "prune failed, will retry: " + e.getMessage()));
    }
  }
}
