package io.langconnect.gitops.sync;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.ObjectRef;
import io.langconnect.gitops.apply.SyncResult;
import io.langconnect.gitops.apply.Workloads;
import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.cluster.Clusters;
import io.langconnect.gitops.control.ControlStore;
import io.langconnect.gitops.values.EnvironmentValues;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an environment leaves on a cluster when it moves away: whether that holds data, its last backup there, and
 * pruning it (claims and namespace kept) now or, when that cluster cannot be reached, at a later sync.
 */
final class Departures {

  private static final Logger LOG = LoggerFactory.getLogger(Departures.class);

  private final InventoryStore inventories;
  private final ControlStore controls;
  private final Clusters clusters;
  private final Duration backupTimeout;

  Departures(InventoryStore inventories, ControlStore controls, Clusters clusters, Duration backupTimeout) {
    this.inventories = inventories;
    this.controls = controls;
    this.clusters = clusters;
    this.backupTimeout = backupTimeout;
  }

  /**
   * Before a confirmed move leaves a cluster, the data there gets one last backup (when backups are on): the Job of
   * the old cluster's own CronJob. A cluster that cannot be reached cannot be backed up, and the move goes on; a
   * backup that fails there holds it. Returns why it is held, or empty.
   */
  Optional<String> finalBackup(SyncRun run, EnvironmentValues values, Inventory previous) {
    if (!values.backup().enabled()) return Optional.empty();
    try {
      BackupService old = clusters.get(previous.cluster()).backups();
      old.cronJob(previous.namespace(), run.name);
      String job = old.backupAndWait(previous.namespace(), run.name, backupTimeout);
      run.moveNote = "; the final backup on cluster " + previous.cluster() + " before the move is Job " + job
          + " in " + previous.namespace();
      return Optional.empty();
    } catch (Clusters.UnavailableException e) {
      run.moveNote = "; no final backup on cluster " + previous.cluster() + ": " + e.getMessage();
      return Optional.empty();
    } catch (KubernetesClientException e) {
      if (Interruptions.isInterruption(e)) throw e;
      run.moveNote = "; no final backup on cluster " + previous.cluster() + ": " + Applier.describe(e);
      return Optional.empty();
    } catch (BackupService.BackupException e) {
      if (e.getMessage().contains("has no backup CronJob")) return Optional.empty();
      return Optional.of("the move of " + run.name + " to cluster " + values.cluster() + " is held: the final backup on"
          + " cluster " + previous.cluster() + " failed: " + e.getMessage() + "; nothing was applied, tried again at"
          + " the next sync");
    }
  }

  String notPrunedYet(Inventory left, RuntimeException why) {
    String cause = why instanceof KubernetesClientException api ? Applier.describe(api) : why.getMessage();
    return "what it left on cluster " + left.cluster() + " is not pruned yet (" + cause + "); "
        + (clusters.knows(left.cluster()) ? "tried again at the next sync"
        : forgetOrAddBack(left.cluster(), InventoryStore.departedConfigMapName(left.environment(), left.cluster())));
  }

  /**
   * What earlier moves left on other clusters and could not prune then: pruned there now (claims and namespace kept),
   * or, when the environment moved back to that cluster, adopted by this sync's apply. Returns what is still not pruned.
   */
  List<String> pruneDeparted(SyncRun run, String cluster, boolean preview) {
    List<Inventory> left;
    try {
      left = inventories.departed(run.name);
    } catch (InventoryStore.InvalidInventoryException e) {
      return List.of(e.getMessage() + ": nothing it names is pruned");
    } catch (KubernetesClientException e) {
      // What this sync applied is still recorded; only the departed records wait.
      if (Interruptions.isInterruption(e)) throw e;
      return List.of("what earlier moves left on other clusters could not be read (" + Applier.describe(e)
          + "); tried again at the next sync");
    }
    List<String> notPruned = new ArrayList<>();
    for (Inventory old : left) {
      boolean confirmed = run.controls.leftPruneConfirmed(old.cluster(), old.revision());
      if (old.cluster().equals(cluster)) {
        if (!preview) inventories.deleteDeparted(old);
        if (!preview && run.controls.leftPruneConfirmedFor().containsKey(old.cluster())) {
          controls.clearPruneLeft(run.name, old.cluster());
        }
        continue;
      }
      if (!confirmed && leavesData(old)) {
        run.leftRunning.add(leftRunning(run.name, old));
        continue;
      }
      try {
        SyncResult pruned = pruneLeft(old, preview);
        if (!preview) inventories.deleteDeparted(old);
        if (!preview && confirmed) controls.clearPruneLeft(run.name, old.cluster());
        LOG.info("{}: {} what it left on cluster {}: {} object(s), kept {} volume claim(s) and the namespace",
            run.name, preview ? "would have pruned" : "pruned", old.cluster(), pruned.count(SyncResult.Action.PRUNED),
            pruned.count(SyncResult.Action.RETAINED));
      } catch (RuntimeException e) {
        if (Interruptions.isInterruption(e)) throw e;
        notPruned.add(notPrunedYet(old, e));
      }
    }
    return notPruned;
  }

  /** What the status says of a database a move left running on its old cluster, and how to end it. */
  private static String leftRunning(String environment, Inventory old) {
    return "its database on cluster " + old.cluster() + " (namespace " + old.namespace() + ") keeps running with its"
        + " data until pruned: bring the data here (`langconnect-gitops backup --env " + environment + " --cluster "
        + old.cluster() + "`, copy the dump out, `langconnect-gitops restore --env " + environment
        + " --from-file DUMP --confirm`), then `langconnect-gitops prune --env " + environment + " --cluster "
        + old.cluster() + " --confirm` (its claims and namespace are kept)";
  }

  /**
   * Once an environment without a database claim is applied on its new cluster, what it had on the old one is pruned
   * there, but for its namespace and what is always kept.
   */
  String leave(SyncRun run, Inventory previous, boolean preview) {
    SyncResult pruned = pruneLeft(previous, preview);
    return "; moved from cluster " + previous.cluster() + ": " + (preview ? "would have pruned " : "pruned ")
        + pruned.count(SyncResult.Action.PRUNED) + " object(s) there and kept " + pruned.kept() + " and namespace "
        + previous.namespace();
  }

  /** Prunes what {@code left} holds on its cluster (claims and namespace kept); what is not ours is said in an Event. */
  private SyncResult pruneLeft(Inventory left, boolean preview) {
    Clusters.Target there = clusters.get(left.cluster());
    SyncResult pruned = there.applier().pruneAll(left, preview);
    if (!preview) reportSkipped(there, left.namespace(), pruned);
    return pruned;
  }

  /**
   * Whether what an environment holds (or left) on a cluster includes data: its inventory names the database's claim,
   * or its database runs on one (an existingClaim); a cluster that cannot be asked is taken to hold data.
   */
  boolean leavesData(Inventory left) {
    if (Guards.dataClaim(left).isPresent()) return true;
    if (left.objects().keySet().stream().anyMatch(ObjectRef::isCloudnativePgCluster)) return true;
    if (left.objects().keySet().stream().noneMatch(ref -> Workloads.isWorkloadKind(ref.kind()))) return false;
    try {
      return PreApplyChecks.dataClaimInUse(clusters.get(left.cluster()), left).isPresent();
    } catch (Clusters.UnavailableException e) {
      return true;
    } catch (KubernetesClientException e) {
      if (Interruptions.isInterruption(e)) throw e;
      return true;
    }
  }

  /** What to do about objects on a cluster the config no longer names: they are never pruned unseen. */
  String forgetOrAddBack(String cluster, String configMap) {
    return "Add clusters." + cluster + " back to the controller config to prune it there, or delete ConfigMap "
        + inventories.namespace() + "/" + configMap + " to forget it";
  }

  /** Objects an inventory named that turned out not to be ours: left alone, and said so where users look. */
  static void reportSkipped(Clusters.Target target, String namespace, SyncResult result) {
    List<String> skipped = result.objects().stream().filter(o -> o.action() == SyncResult.Action.SKIPPED)
        .map(o -> o.ref() + " in " + o.ref().namespace() + " (" + o.note() + ")").toList();
    if (!skipped.isEmpty()) {
      target.events().warning(namespace, "PruneSkipped", "not deleted, not this environment's: " + String.join(", ", skipped));
    }
  }
}
