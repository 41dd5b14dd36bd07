package io.langconnect.gitops.sync;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.apply.Health;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.NamespaceAccess;
import io.langconnect.gitops.apply.ObjectRef;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.apply.SyncFailedException;
import io.langconnect.gitops.apply.SyncResult;
import io.langconnect.gitops.apply.WorkloadCache;
import io.langconnect.gitops.cluster.Clusters;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.control.ControlStore;
import io.langconnect.gitops.control.Controls;
import io.langconnect.gitops.git.RevisionHistory;
import io.langconnect.gitops.observe.ServerVersions;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.status.EnvironmentStatus.ObjectStatus;
import io.langconnect.gitops.status.EnvironmentStatus.Result;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.SyncRecord;
import io.langconnect.gitops.values.EnvironmentValues;
import io.langconnect.gitops.values.NamespacePolicy;
import io.langconnect.gitops.values.Problem;
import io.langconnect.gitops.values.ValuesFolder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One environment's sync, start to end: validate, render, apply, prune, record the inventory, report.
 * Blocking and stateless between calls (state is in the cluster's inventories), so the CLI's
 * {@code sync --once} and the controller's verticles share it. Never throws for an environment's own
 * problems: they become its status.
 */
public final class SyncService {

  private static final Logger LOG = LoggerFactory.getLogger(SyncService.class);

  /**
   * The cluster-side parts a sync works with: the inventories and controls in the controller's own cluster, and the
   * clusters environments are applied to.
   */
  public record Cluster(InventoryStore inventories, ControlStore controls, Clusters targets) {
    /** A one-shot command's, on one cluster: what runs is read from the API server each time. */
    public static Cluster of(KubernetesClient client, Retry retry, NamespacePolicy namespaces) {
      return of(client, retry, namespaces, Optional.empty(), "cli");
    }

    /** On the controller's own cluster only; health between syncs is read from {@code cache} when there is one. */
    public static Cluster of(KubernetesClient client, Retry retry, NamespacePolicy namespaces,
                             Optional<WorkloadCache> cache, String identity) {
      return of(client, retry, namespaces, Clusters.single(Clusters.Target.of(NamespacePolicy.IN_CLUSTER, client, retry,
          cache, identity)));
    }

    public static Cluster of(KubernetesClient client, Retry retry, NamespacePolicy namespaces, Clusters targets) {
      return new Cluster(new InventoryStore(client, namespaces, retry),
          new ControlStore(client, namespaces.controllerNamespace(), retry), targets);
    }
  }

  private final InventoryStore inventories;
  private final ControlStore controls;
  private final Clusters clusters;
  private final SyncRecord record;
  private final ControllerConfig.Sync settings;
  private final RevisionHistory history;
  private final PreApplyChecks checks;
  private final Departures departures;
  private final RemovedEnvironments removed;

  public SyncService(Cluster cluster, SyncRecord record, ControllerConfig.Sync settings, ServerVersions versions) {
    this(cluster, record, settings, versions, RevisionHistory.NONE);
  }

  /** {@code history} orders the revisions of the values repository: an older one is never applied over a newer. */
  public SyncService(Cluster cluster, SyncRecord record, ControllerConfig.Sync settings, ServerVersions versions,
                     RevisionHistory history) {
    this.history = history;
    this.inventories = cluster.inventories();
    this.controls = cluster.controls();
    this.clusters = cluster.targets();
    this.record = record;
    this.settings = settings;
    this.checks = new PreApplyChecks(versions);
    this.departures = new Departures(inventories, controls, clusters, settings.backupTimeout());
    this.removed = new RemovedEnvironments(cluster, record, history, departures);
  }

  public ControlStore controls() {
    return controls;
  }

  /** Confirms the held prune of a removed environment, for its inventory as it is now (see ControlStore). */
  public void confirmPrune(String environment) throws InventoryStore.InvalidInventoryException {
    controls.confirmPrune(environment, inventories.read(environment).map(Inventory::revision).orElse(""));
  }

  /**
   * Syncs one environment. Suspended, it only asks the API server what would change (a server-side dry run); a
   * guard that holds the commit leaves every live object as it is; {@code dryRun} records nothing at all.
   */
  public EnvironmentStatus sync(ValuesFolder.Environment environment, String revision, boolean dryRun) {
    try (var logged = LogContext.of(environment.name(), environment.values().map(EnvironmentValues::cluster)
        .orElse(""), revision)) {
      return syncLogged(environment, revision, dryRun);
    }
  }

  private EnvironmentStatus syncLogged(ValuesFolder.Environment environment, String revision, boolean dryRun) {
    SyncRun run = new SyncRun(environment.name(), revision, dryRun, Instant.now(), record.last(environment.name()));
    if (!environment.isValid()) {
      if (!dryRun) record.rendered(run.name, List.of());
      String problems = environment.problems().stream().filter(Problem::isError).limit(3).map(Problem::toString)
          .collect(Collectors.joining("; "));
      String message = "values are invalid, live objects left untouched: " + problems;
      String namespace = run.before.map(EnvironmentStatus::namespace).orElse("");
      run.cluster = run.before.map(EnvironmentStatus::cluster).orElse(NamespacePolicy.IN_CLUSTER);
      if (!dryRun && !namespace.isEmpty()) {
        try {
          clusters.get(run.cluster).events().warning(namespace, "InvalidValues", message);
        } catch (Clusters.UnavailableException e) {
          LOG.warn("{}: no InvalidValues Event: {}", run.name, e.getMessage());
        }
      }
      return finish(run.outcome(namespace, Result.FAILED, message));
    }
    var bound = environment.values().get();
    run.cluster = bound.cluster();
    Inventory previous = Inventory.empty(run.name);
    String untrusted = null;
    try {
      run.target = clusters.get(bound.cluster());
      run.controls = controls.read(run.name);
      var values = recovered(bound, run.controls);
      List<HasMetadata> desired = StackRenderer.render(values, Optional.empty());
      if (!dryRun) record.rendered(run.name, desired.stream().map(HasMetadata::getKind).distinct().toList());
      boolean preview = dryRun || run.controls.suspended();
      try {
        previous = inventories.read(run.name).orElse(previous);
      } catch (InventoryStore.InvalidInventoryException e) {
        // Nothing it names is pruned; this sync's inventory replaces it.
        untrusted = e.getMessage() + ": nothing was pruned; it is rewritten from this sync";
        LOG.warn("{}: {}", run.name, untrusted);
        if (!preview) run.target.events().warning(values.namespace(), "InvalidInventory", untrusted);
      }
      Optional<String> older = RecordedRevision.olderThan(history, previous, revision);
      if (older.isPresent()) return finish(run.outcome(values.namespace(), Result.PROGRESSING, older.get()));
      // Moving to another cluster: applied there as new, then pruned where it was.
      boolean moving = !previous.objects().isEmpty() && !previous.cluster().equals(values.cluster());
      Inventory here = moving ? Inventory.empty(run.name) : previous;
      Optional<SyncRun.Outcome> held = checks.check(run, values, here, preview);
      if (held.isPresent()) return finish(held.get());
      if (moving && values.postgres().keepsData() && departures.leavesData(previous)) {
        Optional<String> move = Guards.move(values, previous.cluster(), run.controls.newDatabaseConfirmedFor());
        if (move.isEmpty() && !preview) move = departures.finalBackup(run, values, previous);
        if (move.isPresent()) return finish(PreApplyChecks.held(run, values.namespace(), Result.HELD, "MoveHeld", move.get(), preview));
      }
      if (!preview) record.started(run.name, revision);
      SyncResult result = run.target.applier().apply(run.name, values.namespace(), desired, revision, here,
          new Applier.Options(preview, settings.databaseReadyTimeout(), preview ? Applier.BeforeDatabaseRestart.NONE
              : BackupBeforeChange.hook(run, values, settings.backupTimeout())));
      // Recorded at once: what was applied (a drift corrected) stands even if a later step of this sync fails.
      run.applied = !preview;
      run.drift = result.objects().stream().filter(SyncResult.ObjectResult::driftCorrected).count();
      run.objects = result.objects().stream().map(ObjectStatus::of).toList();
      if (!preview) {
        record.applied(run.name, result);
        Departures.reportSkipped(run.target, values.namespace(), result);
        result.replacedDatabase().ifPresent(replaced -> run.target.events().normal(values.namespace(), "DatabaseReplaced",
            replaced.note()));
      }
      String retention = preview ? "" : VolumeRetention.apply(run, values, desired, record);
      String moved = "";
      List<String> notPruned = new ArrayList<>();
      if (moving && departures.leavesData(previous)) {
        // The old database keeps running with its data (and its backups) until the user prunes it.
        if (!preview) inventories.writeDeparted(previous);
        moved = "; moved from cluster " + previous.cluster() + (preview ? ", its database would keep running there"
            + " until pruned" : "");
      } else if (moving) {
        try {
          moved = departures.leave(run, previous, preview);
        } catch (RuntimeException e) {
          if (Interruptions.isInterruption(e)) return run.interrupted(values.namespace(), record);
          // Recorded as departed: the inventory now says where the environment is, and this says what it left.
          if (!preview) inventories.writeDeparted(previous);
          notPruned.add(departures.notPrunedYet(previous, e));
        }
      }
      notPruned.addAll(departures.pruneDeparted(run, values.cluster(), preview));
      String leftRunning = run.leftRunning.isEmpty() ? "" : "; " + String.join("; ", run.leftRunning);
      boolean changed = !result.inventory().objects().equals(previous.objects())
          || !result.inventory().namespace().equals(previous.namespace())
          || previous.production() != values.production() || moving;
      if (!preview && (untrusted != null || changed)) {
        inventories.write(result.inventory().withProduction(values.production()).onCluster(values.cluster()));
      }
      run.health = dryRun ? Health.UNKNOWN : StoreCredentials.missing(run, values)
          .map(missing -> new Health(Health.State.DEGRADED, missing))
          .orElseGet(() -> run.target.live().healthAfter(values.namespace(), run.name, result.left()));
      String message = result.summary(preview) + (untrusted == null ? "" : "; " + untrusted) + moved
          + result.replacedDatabase().map(replaced -> "; " + replaced.note()).orElse("") + retention + run.moveNote
          + leftRunning;
      if (run.controls.suspended()) {
        return finish(run.outcome(values.namespace(), Result.SUSPENDED,
            run.controls.suspension().get().describe() + "; nothing applied: " + message));
      }
      if (result.held().isPresent()) {
        return finish(run.outcome(values.namespace(), Result.HELD, result.held().get().note() + "; the rest: " + message));
      }
      if (!run.backup.isEmpty()) message += "; " + BackupBeforeChange.describe(run, values);
      if (!run.skippedBackup.isEmpty()) message += "; the database change was " + run.skippedBackup;
      if (!preview && run.controls.skipBackupOnce()) controls.clearSkipBackup(run.name); // one change, not every later
      if (!notPruned.isEmpty()) {
        String incomplete = String.join("; ", notPruned);
        if (!preview) run.target.events().warning(values.namespace(), "MoveIncomplete", incomplete);
        return finish(run.outcome(values.namespace(), Result.FAILED, message + "; " + incomplete));
      }
      if (!preview && run.controls.pruneConfirmedFor().isPresent()) {
        controls.clearPrune(run.name); // the values file is back: a confirmation of its removal is void
        message += "; the prune confirmed for its earlier removal is void now that its values file is back";
      }
      if (!preview && run.controls.newDatabaseConfirmedFor().isPresent()) {
        controls.clearNewDatabase(run.name);
        message += "; the new-database confirmation was used and is cleared";
      }
      return finish(run.outcome(values.namespace(), Result.SYNCED, message));
    } catch (SyncFailedException e) {
      if (Interruptions.isInterruption(e)) return run.interrupted(bound.namespace(), record);
      if (!run.preview()) recordPartial(previous, bound.namespace(), bound.cluster(), e.partial(), revision);
      boolean going = e.getCause() instanceof KubernetesClientException api ? run.namespaceGoing(bound.namespace(), api)
          : e.reason() == SyncFailedException.Reason.DATABASE_NOT_READY && run.namespaceTerminating(bound.namespace());
      if (going) {
        run.objects = e.partial().stream().map(ObjectStatus::of).toList();
        return finish(run.namespaceBeingDeleted(bound.namespace()));
      }
      if (!run.preview()) run.target.events().warning(bound.namespace(), switch (e.reason()) {
        case DATABASE_NOT_READY -> "WaitingForDatabase";
        case NOT_OURS -> "NotOurs";
        case API_ERROR -> "SyncFailed";
      }, e.getMessage());
      Result result = e.reason() == SyncFailedException.Reason.DATABASE_NOT_READY ? Result.PROGRESSING : Result.FAILED;
      run.objects = e.partial().stream().map(ObjectStatus::of).toList();
      return finish(run.outcome(bound.namespace(), result, run.target.where() + e.getMessage()));
    } catch (Clusters.UnavailableException e) {
      return finish(run.outcome(bound.namespace(), Result.FAILED, e.getMessage() + "; nothing applied, tried again at"
          + " the next sync"));
    } catch (InventoryStore.ConflictException e) {
      return finish(run.outcome(bound.namespace(), Result.FAILED, run.where() + e.getMessage()));
    } catch (NamespaceAccess.NotManagedException e) {
      return finish(run.outcome(bound.namespace(), Result.FAILED, run.where() + e.getMessage() + "; nothing applied"));
    } catch (KubernetesClientException e) {
      // A read before the apply (the guards' live state, the controls, the inventory) or a step after it failed.
      if (Interruptions.isInterruption(e)) return run.interrupted(bound.namespace(), record);
      if (run.namespaceGoing(bound.namespace(), e)) return finish(run.namespaceBeingDeleted(bound.namespace()));
      return finish(run.outcome(bound.namespace(), Result.FAILED, run.where() + Applier.describe(e) + (run.applied
          ? "; the objects were applied, the inventory may lag: tried again at the next sync"
          : "; nothing applied, tried again at the next sync")));
    } catch (RuntimeException e) {
      if (Interruptions.isInterruption(e)) return run.interrupted(bound.namespace(), record);
      LOG.error("sync of {} failed unexpectedly", run.name, e);
      return finish(run.outcome(bound.namespace(), Result.FAILED, run.where() + "unexpected error: " + e.getMessage()));
    }
  }

  /**
   * The values to render: with CloudNativePG, the Cluster a confirmed point-in-time restore made replaces the
   * rendered one, for the namespace and release it was confirmed for.
   */
  public static EnvironmentValues recovered(EnvironmentValues values, Controls controls) {
    return controls.recoveredCluster()
        .filter(r -> values.postgres().cloudnativePg() && r.target().equals(Guards.target(values)))
        .map(r -> values.withRecoveredCluster(r.cluster()))
        .orElse(values);
  }

  /** Whether what an environment holds (or left) on a cluster includes data; see {@link Departures#leavesData}. */
  public boolean leavesData(Inventory left) {
    return departures.leavesData(left);
  }

  /** Environments of this controller's shard that have an inventory but no values file any more. */
  public List<String> removedEnvironments(Collection<String> present) {
    return removed.names(present);
  }

  /** Prunes an environment whose values file was removed; see {@link RemovedEnvironments#prune}. */
  public EnvironmentStatus pruneRemoved(String environment, String revision, boolean dryRun, boolean everyFileRemoved) {
    return removed.prune(environment, revision, dryRun, everyFileRemoved);
  }

  /** Whether the last status of the environment says Ready (or it has none yet to look at). */
  public boolean isReady(String environment) {
    return record.last(environment).map(s -> s.health().ready() || s.namespace().isEmpty()).orElse(true);
  }

  /**
   * Reads the environment's health again from the watches. True when a sync should run now: a pod cannot start for
   * want of a Secret this environment applies (deleted by someone), or a change held while the database was down
   * can go ahead since it runs again.
   */
  public boolean refreshHealth(String environment) {
    Optional<EnvironmentStatus> status = record.last(environment);
    if (status.isEmpty() || status.get().namespace().isEmpty() || status.get().result() == Result.PRUNED) return false;
    Clusters.Target target;
    try {
      target = clusters.get(status.get().cluster());
    } catch (Clusters.UnavailableException e) {
      return false; // its next sync says why
    }
    if (status.get().health().message().endsWith(StoreCredentials.STORE_UNREACHABLE)) return false; // the next sync reads the Secret again
    Health health = target.live().recentHealth(status.get().namespace(), environment);
    // A change held because the database was down for a moment (a pod deleted as it was committed) goes ahead, its
    // backup first, once it runs again; a database that keeps crashing never gets here (apply-without-backup).
    if (BackupBeforeChange.heldWhileDown(status.get()) && databaseRuns(target, environment)) return true;
    if (health.equals(status.get().health())) return false;
    if (health.state() == Health.State.DEGRADED && status.get().health().state() != Health.State.DEGRADED) {
      target.events().warning(status.get().namespace(), "Degraded", health.message());
      LOG.warn("{}: degraded: {}", environment, health.message());
    }
    EnvironmentStatus updated = status.get().withHealth(health);
    record.healthChanged(updated);
    try {
      return health.missesOneOf(inventories.read(environment).map(i -> i.objects().keySet()).orElse(java.util.Set.of()));
    } catch (InventoryStore.InvalidInventoryException e) {
      return false; // the next sync says why
    }
  }

  private boolean databaseRuns(Clusters.Target target, String environment) {
    try {
      return inventories.read(environment).stream().flatMap(inventory -> inventory.objects().keySet().stream())
          .filter(ref -> ref.kind().equals("StatefulSet") || ref.kind().equals("Deployment"))
          .flatMap(ref -> target.live().database(ref).stream())
          .anyMatch(database -> io.langconnect.gitops.apply.Workloads.readyReplicas(database) > 0);
    } catch (InventoryStore.InvalidInventoryException e) {
      return false; // the next sync says why
    }
  }

  /**
   * Whether this controller syncs the environment: its values place it on a cluster of its shard. Invalid values
   * place it nowhere; every shard reports them, and none applies anything.
   */
  public boolean syncs(ValuesFolder.Environment environment) {
    return environment.values().map(values -> clusters.syncs(values.cluster())).orElse(true);
  }

  /**
   * After a failure, objects applied so far join the inventory (with no hash, so the next sync re-applies them).
   * An inventory holds one namespace of one cluster: when the environment just moved, the old one is kept as it is.
   */
  private void recordPartial(Inventory previous, String namespace, String cluster, List<SyncResult.ObjectResult> partial,
                             String revision) {
    if (!previous.namespace().isEmpty() && !previous.namespace().equals(namespace)) return;
    if (!previous.objects().isEmpty() && !previous.cluster().equals(cluster)) return;
    Map<ObjectRef, Inventory.Entry> merged = new LinkedHashMap<>(previous.objects());
    boolean grew = false;
    for (SyncResult.ObjectResult object : partial) {
      if (object.action() == SyncResult.Action.CREATED || object.action() == SyncResult.Action.CONFIGURED) {
        merged.put(object.ref(), new Inventory.Entry("", revision));
        grew = true;
      }
    }
    if (!grew) return;
    try {
      inventories.write(new Inventory(previous.environment(), namespace, previous.revision(), merged,
          previous.production(), cluster));
    } catch (RuntimeException e) {
      LOG.warn("could not record the partial inventory of {}: {}", previous.environment(), e.getMessage());
    }
  }

  private EnvironmentStatus finish(SyncRun.Outcome outcome) {
    return outcome.finish(record);
  }
}
