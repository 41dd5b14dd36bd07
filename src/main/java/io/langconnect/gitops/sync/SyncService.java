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
import io.langconnect.gitops.apply.Workloads;
import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.cluster.Clusters;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.control.ControlStore;
import io.langconnect.gitops.control.Controls;
import io.langconnect.gitops.git.RevisionHistory;
import io.langconnect.gitops.observe.ServerVersions;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.render.Names;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.status.EnvironmentStatus.ObjectStatus;
import io.langconnect.gitops.status.EnvironmentStatus.Result;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.SyncRecord;
import io.langconnect.gitops.values.EnvironmentValues;
import io.langconnect.gitops.values.NamespacePolicy;
import io.langconnect.gitops.values.PostgresVersions;
import io.langconnect.gitops.values.Problem;
import io.langconnect.gitops.values.ValuesFolder;
import java.time.Duration;
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
  private final ServerVersions versions;
  private final RevisionHistory history;

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
    this.versions = versions;
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
    Sync run = new Sync(environment.name(), revision, dryRun, Instant.now(), record.last(environment.name()));
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
      Optional<String> older = olderThanRecorded(previous, revision);
      if (older.isPresent()) return finish(run.outcome(values.namespace(), Result.PROGRESSING, older.get()));
      // Moving to another cluster: applied there as new, then pruned where it was.
      boolean moving = !previous.objects().isEmpty() && !previous.cluster().equals(values.cluster());
      Inventory here = moving ? Inventory.empty(run.name) : previous;
      Optional<Outcome> held = guard(run, values, here, preview);
      if (held.isPresent()) return finish(held.get());
      if (moving && values.postgres().keepsData() && leavesData(previous)) {
        Optional<String> move = Guards.move(values, previous.cluster(), run.controls.newDatabaseConfirmedFor());
        if (move.isEmpty() && !preview) move = finalBackup(run, values, previous);
        if (move.isPresent()) return finish(held(run, values.namespace(), Result.HELD, "MoveHeld", move.get(), preview));
      }
      SyncResult result = run.target.applier().apply(run.name, values.namespace(), desired, revision, here,
          new Applier.Options(preview, settings.databaseReadyTimeout(), preview ? Applier.BeforeDatabaseRestart.NONE
              : backupFirst(run, values)));
      // Recorded at once: what was applied (a drift corrected) stands even if a later step of this sync fails.
      run.applied = !preview;
      run.drift = result.objects().stream().filter(SyncResult.ObjectResult::driftCorrected).count();
      run.objects = result.objects().stream().map(ObjectStatus::of).toList();
      if (!preview) {
        record.applied(run.name, result);
        reportSkipped(run.target, values.namespace(), result);
        result.replacedDatabase().ifPresent(replaced -> run.target.events().normal(values.namespace(), "DatabaseReplaced",
            replaced.note()));
      }
      String retention = preview ? "" : retainVolumes(run, values, desired);
      String moved = "";
      List<String> notPruned = new ArrayList<>();
      if (moving && leavesData(previous)) {
        // The old database keeps running with its data (and its backups) until the user prunes it.
        if (!preview) inventories.writeDeparted(previous);
        moved = "; moved from cluster " + previous.cluster() + (preview ? ", its database would keep running there"
            + " until pruned" : "");
      } else if (moving) {
        try {
          moved = leave(run, previous, preview);
        } catch (RuntimeException e) {
          if (Interruptions.isInterruption(e)) return interrupted(run, values.namespace());
          // Recorded as departed: the inventory now says where the environment is, and this says what it left.
          if (!preview) inventories.writeDeparted(previous);
          notPruned.add(notPrunedYet(previous, e));
        }
      }
      notPruned.addAll(pruneDeparted(run, values.cluster(), preview));
      String leftRunning = run.leftRunning.isEmpty() ? "" : "; " + String.join("; ", run.leftRunning);
      boolean changed = !result.inventory().objects().equals(previous.objects())
          || !result.inventory().namespace().equals(previous.namespace())
          || previous.production() != values.production() || moving;
      if (!preview && (untrusted != null || changed)) {
        inventories.write(result.inventory().withProduction(values.production()).onCluster(values.cluster()));
      }
      run.health = dryRun ? Health.UNKNOWN : storeCredentialsMissing(run, values)
          .map(missing -> new Health(Health.State.DEGRADED, missing))
          .orElseGet(() -> run.target.live().health(values.namespace(), run.name));
      String message = summary(result, preview) + (untrusted == null ? "" : "; " + untrusted) + moved
          + result.replacedDatabase().map(replaced -> "; " + replaced.note()).orElse("") + retention + run.moveNote
          + leftRunning;
      if (run.controls.suspended()) {
        return finish(run.outcome(values.namespace(), Result.SUSPENDED,
            run.controls.suspension().get().describe() + "; nothing applied: " + message));
      }
      if (result.held().isPresent()) {
        return finish(run.outcome(values.namespace(), Result.HELD, result.held().get().note() + "; the rest: " + message));
      }
      if (!run.backup.isEmpty()) message += "; " + backedUp(run, values);
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
      if (Interruptions.isInterruption(e)) return interrupted(run, bound.namespace());
      if (!run.preview()) recordPartial(previous, bound.namespace(), bound.cluster(), e.partial(), revision);
      boolean going = e.getCause() instanceof KubernetesClientException api ? namespaceGoing(run, bound.namespace(), api)
          : e.reason() == SyncFailedException.Reason.DATABASE_NOT_READY && namespaceTerminating(run, bound.namespace());
      if (going) {
        run.objects = e.partial().stream().map(ObjectStatus::of).toList();
        return finish(namespaceBeingDeleted(run, bound.namespace()));
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
      if (Interruptions.isInterruption(e)) return interrupted(run, bound.namespace());
      if (namespaceGoing(run, bound.namespace(), e)) return finish(namespaceBeingDeleted(run, bound.namespace()));
      return finish(run.outcome(bound.namespace(), Result.FAILED, run.where() + Applier.describe(e) + (run.applied
          ? "; the objects were applied, the inventory may lag: tried again at the next sync"
          : "; nothing applied, tried again at the next sync")));
    } catch (RuntimeException e) {
      if (Interruptions.isInterruption(e)) return interrupted(run, bound.namespace());
      LOG.error("sync of {} failed unexpectedly", run.name, e);
      return finish(run.outcome(bound.namespace(), Result.FAILED, run.where() + "unexpected error: " + e.getMessage()));
    }
  }

  /**
   * Sets the policy the values ask for (Retain for production) on the volumes bound to the environment's claims, once
   * they are bound; says so in an Event when it changed one. Returns what the status message adds ("" for nothing new).
   */
  private String retainVolumes(Sync run, EnvironmentValues values, List<HasMetadata> desired) {
    Optional<String> policy = values.postgres().persistence().reclaimPolicy();
    if (policy.isEmpty() || !values.postgres().persistence().enabled()) return "";
    List<String> claims = new ArrayList<>(desired.stream().filter(o -> o.getKind().equals("PersistentVolumeClaim"))
        .map(o -> o.getMetadata().getName()).toList());
    values.postgres().persistence().existingClaim().filter(claim -> !claims.contains(claim)).ifPresent(claims::add);
    try {
      List<Applier.Volume> volumes = run.target.applier().retainVolumes(values.namespace(), claims, policy.get());
      record.volumes(run.name, volumes);
      List<String> changed = volumes.stream().filter(Applier.Volume::changed)
          .map(v -> "volume " + v.volume() + " of claim " + v.claim()).toList();
      if (changed.isEmpty()) return "";
      String message = "set reclaim policy " + policy.get() + " on " + String.join(", ", changed)
          + (policy.get().equals("Retain") ? ": the data outlives its claim and namespace" : "");
      run.target.events().normal(values.namespace(), "VolumeReclaimPolicySet", message);
      return "; " + message;
    } catch (KubernetesClientException e) {
      if (Interruptions.isInterruption(e)) throw e;
      String message = "the reclaim policy " + policy.get() + " could not be set on the volumes of " + claims + " ("
          + Applier.describe(e) + "); tried again at the next sync";
      run.target.events().warning(values.namespace(), "VolumeReclaimPolicyNotSet", message);
      return "; " + message;
    }
  }

  /** How a missing object-store Secret ends its Degraded message; kept between syncs, which alone read Secrets. */
  private static final String STORE_UNREACHABLE = "; backups cannot reach the object store until it does";

  /** A Secret the object store's values name that is missing (or lacks the key): no backup could upload. */
  private static Optional<String> storeCredentialsMissing(Sync run, EnvironmentValues values) {
    if (!values.backup().enabled() || values.backup().objectStore().isEmpty()) return Optional.empty();
    var store = values.backup().objectStore().get();
    var refs = new LinkedHashMap<String, EnvironmentValues.SecretKey>();
    refs.put("backup.objectStore.s3Credentials.accessKeyId", store.accessKeyId());
    refs.put("backup.objectStore.s3Credentials.secretAccessKey", store.secretAccessKey());
    store.endpointCA().ifPresent(ca -> refs.put("backup.objectStore.endpointCA", ca));
    for (var ref : refs.entrySet()) {
      var secret = run.target.live().secret(values.namespace(), ref.getValue().name());
      boolean hasKey = secret.map(s -> (s.getData() != null && s.getData().containsKey(ref.getValue().key()))
          || (s.getStringData() != null && s.getStringData().containsKey(ref.getValue().key()))).orElse(false);
      if (!hasKey) {
        return Optional.of(values.origin(ref.getKey()) + ": " + ref.getKey() + ": Secret " + ref.getValue().name() + " in "
            + values.namespace() + (secret.isEmpty() ? " does not exist" : " has no key " + ref.getValue().key())
            + STORE_UNREACHABLE);
      }
    }
    return Optional.empty();
  }

  /**
   * Before a confirmed move leaves a cluster, the data there gets one last backup (when backups are on): the Job of
   * the old cluster's own CronJob. A cluster that cannot be reached cannot be backed up, and the move goes on; a
   * backup that fails there holds it. Returns why it is held, or empty.
   */
  private Optional<String> finalBackup(Sync run, EnvironmentValues values, Inventory previous) {
    if (!values.backup().enabled()) return Optional.empty();
    try {
      BackupService old = clusters.get(previous.cluster()).backups();
      old.cronJob(previous.namespace(), run.name);
      String job = old.backupAndWait(previous.namespace(), run.name, settings.backupTimeout());
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

  private String notPrunedYet(Inventory left, RuntimeException why) {
    String cause = why instanceof KubernetesClientException api ? Applier.describe(api) : why.getMessage();
    return "what it left on cluster " + left.cluster() + " is not pruned yet (" + cause + "); "
        + (clusters.knows(left.cluster()) ? "tried again at the next sync"
        : forgetOrAddBack(left.cluster(), InventoryStore.departedConfigMapName(left.environment(), left.cluster())));
  }

  /**
   * What earlier moves left on other clusters and could not prune then: pruned there now (claims and namespace kept),
   * or, when the environment moved back to that cluster, adopted by this sync's apply. Returns what is still not pruned.
   */
  private List<String> pruneDeparted(Sync run, String cluster, boolean preview) {
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

  /**
   * A revision older than the one the inventory records is not applied (nor a removal at it pruned): another shard,
   * or a replica that fetched later, applied the newer one, and going back would undo it (an environment bounced
   * between clusters). Returns why it waits, or empty.
   */
  private Optional<String> olderThanRecorded(Inventory recorded, String revision) {
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

  /**
   * A request refused because the environment's namespace is being deleted (the API server says so, or its Secret
   * grant went first), or a database wait ended by it: that ends by itself, so the sync is Progressing and looked at again within seconds, not
   * backed off as a failure; once the namespace is gone, the next sync holds a lost claim or makes it again.
   */
  private static boolean namespaceGoing(Sync run, String namespace, KubernetesClientException e) {
    if (e.getCode() != 403 || run.target == null) return false;
    return String.valueOf(e.getMessage()).contains("is being terminated") || namespaceTerminating(run, namespace);
  }

  private static boolean namespaceTerminating(Sync run, String namespace) {
    if (run.target == null) return false;
    try {
      var live = run.target.client().namespaces().withName(namespace).get();
      return live == null || live.getMetadata().getDeletionTimestamp() != null;
    } catch (KubernetesClientException unreadable) {
      return false;
    }
  }

  private Outcome namespaceBeingDeleted(Sync run, String namespace) {
    return run.outcome(namespace, Result.PROGRESSING, run.target.where() + "namespace " + namespace
        + " is being deleted: nothing more is applied until it is gone");
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
  private String leave(Sync run, Inventory previous, boolean preview) {
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
   * The checks made before anything is applied: a password Secret that is missing, a release or namespace change
   * that would start an empty database, a PostgreSQL major version that cannot open the data. Each holds the whole
   * commit, with an Event that says what to do.
   */
  private Optional<Outcome> guard(Sync run, EnvironmentValues values, Inventory previous, boolean preview) {
    String namespace = values.namespace();
    Optional<String> missing = Guards.missingSecret(values,
        values.postgres().auth().existingSecret().flatMap(secret -> run.target.live().secret(namespace, secret)));
    if (missing.isPresent()) return Optional.of(held(run, namespace, Result.FAILED, "MissingSecret", missing.get(), preview));
    Optional<String> missingCa = Guards.missingCaSecret(values, values.postgres().external()
        .flatMap(EnvironmentValues.External::caSecret).flatMap(secret -> run.target.live().secret(namespace, secret)));
    if (missingCa.isPresent()) return Optional.of(held(run, namespace, Result.FAILED, "MissingSecret", missingCa.get(), preview));
    if (values.postgres().cloudnativePg() && !run.target.live().cloudnativePgServed()) {
      return Optional.of(held(run, namespace, Result.FAILED, "CloudNativePGMissing", values.origin("postgres.engine")
          + ": postgres.engine: cloudnative-pg needs CloudNativePG's operator on cluster " + values.cluster() + ", whose"
          + " API server does not serve postgresql.cnpg.io/v1 Clusters; install CloudNativePG 1.27 to 1.29 (README:"
          + " Database engines), nothing was applied", preview));
    }
    Optional<EnvironmentValues.Engine> before = engineBefore(run.target, previous);
    if (before.isPresent()) {
      boolean heldData = before.get() != EnvironmentValues.Engine.BUNDLED || dataClaimInUse(run.target, previous).isPresent();
      Optional<String> change = Guards.engineChange(values, before.get(), heldData, run.controls.newDatabaseConfirmedFor());
      if (change.isPresent()) return Optional.of(held(run, namespace, Result.HELD, "EngineChangeRefused", change.get(), preview));
    }
    // The guards below protect the bundled database's volume; another engine keeps its data elsewhere.
    if (!values.postgres().bundled()) return Optional.empty();
    // The other guards protect data on a volume: without persistence there is none, unless the database runs on one.
    if (!values.postgres().persistence().enabled()) {
      Optional<String> off = Guards.persistenceOff(values, dataClaimInUse(run.target, previous),
          run.controls.newDatabaseConfirmedFor());
      return off.map(message -> held(run, namespace, Result.HELD, "PersistenceOffRefused", message, preview));
    }
    Optional<String> newDatabase = Guards.newDatabase(values, dataClaimInUse(run.target, previous),
        run.controls.newDatabaseConfirmedFor());
    if (newDatabase.isPresent()) {
      return Optional.of(held(run, namespace, Result.HELD, "NewDatabaseHeld", newDatabase.get(), preview));
    }
    Optional<ObjectRef> recorded = Guards.dataClaim(previous);
    Optional<String> lost = Guards.claimLost(values, recorded,
        recorded.isPresent() && run.target.live().claimExists(recorded.get().namespace(), recorded.get().name()),
        run.controls.newDatabaseConfirmedFor());
    if (lost.isPresent()) return Optional.of(held(run, namespace, Result.HELD, "NewDatabaseHeld", lost.get(), preview));
    Optional<Integer> running = versions.major(namespace, run.name);
    String source = "server_version_num";
    if (running.isEmpty()) {
      running = run.target.live().database(namespace, new Names(values.release()).postgres()).flatMap(Workloads::imageTag)
          .flatMap(PostgresVersions::major);
      source = "the running image's tag";
    }
    Optional<String> major = Guards.majorUpgrade(values, running, source);
    if (major.isPresent()) return Optional.of(held(run, namespace, Result.HELD, "MajorUpgradeRefused", major.get(), preview));
    return Optional.empty();
  }

  /**
   * Whether what an environment holds (or left) on a cluster includes data: its inventory names the database's claim,
   * or its database runs on one (an existingClaim); a cluster that cannot be asked is taken to hold data.
   */
  public boolean leavesData(Inventory left) {
    if (Guards.dataClaim(left).isPresent()) return true;
    if (left.objects().keySet().stream().anyMatch(ObjectRef::isCloudnativePgCluster)) return true;
    if (left.objects().keySet().stream().noneMatch(ref -> Workloads.isWorkloadKind(ref.kind()))) return false;
    try {
      return dataClaimInUse(clusters.get(left.cluster()), left).isPresent();
    } catch (Clusters.UnavailableException e) {
      return true;
    } catch (KubernetesClientException e) {
      if (Interruptions.isInterruption(e)) throw e;
      return true;
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

  /**
   * The engine the environment ran on, as its live LangConnect Deployment says (its annotation, or none for bundled);
   * empty when there is none yet.
   */
  private Optional<EnvironmentValues.Engine> engineBefore(Clusters.Target target, Inventory previous) {
    for (ObjectRef ref : previous.objects().keySet()) {
      if (!ref.kind().equals("Deployment")) continue;
      Optional<HasMetadata> langconnect = target.live().workload(ref)
          .filter(w -> Labels.LANGCONNECT.equals(w.getMetadata().getLabels().get(Labels.COMPONENT)));
      if (langconnect.isPresent()) {
        return Optional.of(Optional.ofNullable(langconnect.get().getMetadata().getAnnotations())
            .map(a -> a.get(Labels.ENGINE_ANNOTATION)).map(EnvironmentValues.Engine::of)
            .orElse(EnvironmentValues.Engine.BUNDLED));
      }
    }
    return Optional.empty();
  }

  /** The claim the environment's running database uses now (found through its live workload), if any. */
  private Optional<ObjectRef> dataClaimInUse(Clusters.Target target, Inventory previous) {
    for (ObjectRef ref : previous.objects().keySet()) {
      if (!Workloads.isWorkloadKind(ref.kind())) continue;
      Optional<HasMetadata> database = target.live().database(ref);
      if (database.isPresent()) {
        return Workloads.claims(database.get()).stream().findFirst()
            .map(claim -> new ObjectRef("v1", "PersistentVolumeClaim", ref.namespace(), claim));
      }
    }
    return Guards.dataClaim(previous);
  }

  private Outcome held(Sync run, String namespace, Result result, String reason, String message, boolean preview) {
    if (!preview) run.target.events().warning(namespace, reason, message);
    if (run.controls.suspended()) {
      return run.outcome(namespace, Result.SUSPENDED, run.controls.suspension().get().describe()
          + "; when resumed it would be held: " + message);
    }
    return run.outcome(namespace, result, message);
  }

  /**
   * With backups on and {@code backup.beforeChange}, a change that restarts PostgreSQL first runs the backup
   * CronJob's own Job and waits for it; a backup that fails holds the database change (the rest still syncs).
   */
  private Applier.BeforeDatabaseRestart backupFirst(Sync run, EnvironmentValues values) {
    if (!values.backup().enabled() || !values.backup().beforeChange()) return Applier.BeforeDatabaseRestart.NONE;
    BackupService backups = run.target.backups();
    EventRecorder events = run.target.events();
    return (current, changed) -> {
      // Where the running database is: a database replaced across namespaces is backed up where its data is.
      String namespace = current.getMetadata().getNamespace();
      try {
        backups.cronJob(namespace, run.name);
      } catch (BackupService.BackupException e) {
        LOG.warn("{}: PostgreSQL restarts without a backup first: its backup CronJob does not exist yet ({})", run.name,
            e.getMessage());
        return Optional.empty();
      }
      String what = String.join(", ", changed.stream().limit(5).toList());
      if (Workloads.readyReplicas(current) == 0) {
        // A database that does not run cannot be dumped; waiting for the dump would only hold the fix it needs.
        if (run.controls.skipBackupOnce()) {
          run.skippedBackup = "applied without the backup before it, as `apply-without-backup` asked: the database"
              + " was not running";
          events.warning(namespace, "AppliedWithoutBackup", "the PostgreSQL change (" + what + ") is "
              + run.skippedBackup);
          return Optional.empty();
        }
        String message = "the PostgreSQL change (" + what + ") is held: the database is not running, so the backup"
            + " before it cannot be taken. To apply it without that backup, run `langconnect-gitops apply-without-backup"
            + " --env " + run.name + "` (or POST /api/v1/environments/" + run.name + "/apply-without-backup)";
        events.warning(namespace, "DatabaseChangeHeld", message);
        return Optional.of(message);
      }
      LOG.info("{}: the PostgreSQL pod changes ({}): backing up before restarting it", run.name, what);
      events.normal(namespace, "BackupBeforeChange", "the PostgreSQL pod changes (" + what
          + "): running a backup before restarting the database");
      try {
        run.backup = backups.backupAndWait(namespace, run.name, settings.backupTimeout());
        LOG.info("{}: {}", run.name, backedUp(run, values));
        return Optional.empty();
      } catch (BackupService.BackupException e) {
        String message = "the PostgreSQL change (" + what + ") is held: " + e.getMessage()
            + "; the database keeps running unchanged and the change is tried again at the next sync";
        events.warning(namespace, "DatabaseChangeHeld", message);
        return Optional.of(message);
      }
    };
  }

  private static String backedUp(Sync run, EnvironmentValues values) {
    String where = values.backup().objectStore().map(store -> "in s3://" + store.folder(values.environment()) + "/")
        .orElse("on the backups volume");
    return "backup Job " + run.backup + " finished before PostgreSQL restarted; its dump is the newest " + where
        + ": `langconnect-gitops restore --env " + values.environment() + " --backup latest --confirm`";
  }

  /** Whether the last status of the environment says Ready (or it has none yet to look at). */
  public boolean isReady(String environment) {
    return record.last(environment).map(s -> s.health().ready() || s.namespace().isEmpty()).orElse(true);
  }

  /** Re-reads how an environment's objects run, without syncing; a change of health is recorded and counted. */
  public void refreshHealth(String environment) {
    Optional<EnvironmentStatus> status = record.last(environment);
    if (status.isEmpty() || status.get().namespace().isEmpty() || status.get().result() == Result.PRUNED) return;
    Clusters.Target target;
    try {
      target = clusters.get(status.get().cluster());
    } catch (Clusters.UnavailableException e) {
      return; // its next sync says why
    }
    if (status.get().health().message().endsWith(STORE_UNREACHABLE)) return; // the next sync reads the Secret again
    Health health = target.live().recentHealth(status.get().namespace(), environment);
    if (health.equals(status.get().health())) return;
    if (health.state() == Health.State.DEGRADED && status.get().health().state() != Health.State.DEGRADED) {
      target.events().warning(status.get().namespace(), "Degraded", health.message());
      LOG.warn("{}: degraded: {}", environment, health.message());
    }
    EnvironmentStatus updated = status.get().withHealth(health);
    record.healthChanged(updated);
  }

  /** What to do about objects on a cluster the config no longer names: they are never pruned unseen. */
  private String forgetOrAddBack(String cluster, String configMap) {
    return "Add clusters." + cluster + " back to the controller config to prune it there, or delete ConfigMap "
        + inventories.namespace() + "/" + configMap + " to forget it";
  }

  /** Objects an inventory named that turned out not to be ours: left alone, and said so where users look. */
  private void reportSkipped(Clusters.Target target, String namespace, SyncResult result) {
    List<String> skipped = result.objects().stream().filter(o -> o.action() == SyncResult.Action.SKIPPED)
        .map(o -> o.ref() + " in " + o.ref().namespace() + " (" + o.note() + ")").toList();
    if (!skipped.isEmpty()) {
      target.events().warning(namespace, "PruneSkipped", "not deleted, not this environment's: " + String.join(", ", skipped));
    }
  }

  /**
   * The controller is stopping or lost its Lease while this sync ran: expected, not an error. Nothing is
   * recorded (the status board keeps the last real outcome) and the next leader syncs again from the cluster's
   * inventory.
   */
  private EnvironmentStatus interrupted(Sync run, String namespace) {
    LOG.info("sync of {} interrupted: the controller is stopping or lost its leadership; the next leader carries on", run.name);
    Sync unrecorded = new Sync(run.name, run.revision, true, run.started, run.before);
    return finish(unrecorded.outcome(namespace, Result.FAILED, "interrupted"));
  }

  /** Environments of this controller's shard that have an inventory but no values file any more. */
  public List<String> removedEnvironments(Collection<String> present) {
    return inventories.environments(clusters::syncs).stream().filter(env -> !present.contains(env)).toList();
  }

  /**
   * Whether this controller syncs the environment: its values place it on a cluster of its shard. Invalid values
   * place it nowhere; every shard reports them, and none applies anything.
   */
  public boolean syncs(ValuesFolder.Environment environment) {
    return environment.values().map(values -> clusters.syncs(values.cluster())).orElse(true);
  }

  /**
   * Prunes an environment whose values file was removed; its PVCs and namespace stay. A production environment,
   * or any environment when every values file is gone at once, waits for {@code prune --confirm}: a commit that
   * empties the folder by mistake then prunes nothing. A suspended environment is not pruned at all.
   */
  public EnvironmentStatus pruneRemoved(String environment, String revision, boolean dryRun, boolean everyFileRemoved) {
    try (var logged = LogContext.of(environment, "", revision)) {
      return pruneRemovedLogged(environment, revision, dryRun, everyFileRemoved);
    }
  }

  private EnvironmentStatus pruneRemovedLogged(String environment, String revision, boolean dryRun,
                                               boolean everyFileRemoved) {
    Sync run = new Sync(environment, revision, dryRun, Instant.now(), Optional.empty());
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
            + forgetOrAddBack(run.cluster, InventoryStore.configMapName(environment))));
      }
      run.target = clusters.get(run.cluster);
      run.controls = controls.read(environment);
      if (run.controls.suspended()) {
        return finish(run.outcome(namespace, Result.SUSPENDED, run.controls.suspension().get().describe()
            + "; its values file was removed, nothing is pruned while it is suspended"));
      }
      Optional<String> older = olderThanRecorded(inventory.get(), revision);
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
      List<String> notPruned = pruneDeparted(run, "", dryRun);
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
        reportSkipped(run.target, namespace, result);
      }
      run.objects = result.objects().stream().map(ObjectStatus::of).toList();
      String message = "values file removed: pruned " + result.count(SyncResult.Action.PRUNED) + " object(s), kept "
          + result.kept() + " and the namespace"
          + skippedNote(result);
      EnvironmentStatus status = finish(run.outcome(namespace, Result.PRUNED, message));
      if (!dryRun) record.removed(environment);
      return status;
    } catch (RuntimeException e) {
      if (Interruptions.isInterruption(e)) return interrupted(run, "");
      return finish(run.outcome("", Result.FAILED, run.where() + "prune failed, will retry: " + e.getMessage()));
    }
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

  private static String summary(SyncResult result, boolean preview) {
    if (!result.changedAnything()) return "in sync";
    String prefix = preview ? "would have " : "";
    return prefix + "created " + result.count(SyncResult.Action.CREATED)
        + ", configured " + result.count(SyncResult.Action.CONFIGURED)
        + ", pruned " + result.count(SyncResult.Action.PRUNED)
        + ", unchanged " + result.count(SyncResult.Action.UNCHANGED)
        + skippedNote(result);
  }

  private static String skippedNote(SyncResult result) {
    long skipped = result.count(SyncResult.Action.SKIPPED);
    return skipped == 0 ? "" : ", skipped " + skipped + " not ours: " + result.objects().stream()
        .filter(o -> o.action() == SyncResult.Action.SKIPPED).map(o -> o.ref() + " in " + o.ref().namespace())
        .collect(Collectors.joining(", "));
  }

  /** One sync's context, filled in as it goes. */
  private static final class Sync {
    final String name;
    final String revision;
    final boolean dryRun;
    final Instant started;
    final Optional<EnvironmentStatus> before;
    Controls controls = Controls.NONE;
    String cluster = NamespacePolicy.IN_CLUSTER;
    Clusters.Target target;
    List<ObjectStatus> objects = List.of();
    long drift;
    boolean applied;
    Health health;
    String backup = "";
    String skippedBackup = "";
    String moveNote = "";
    final List<String> leftRunning = new ArrayList<>();

    Sync(String name, String revision, boolean dryRun, Instant started, Optional<EnvironmentStatus> before) {
      this.name = name;
      this.revision = revision;
      this.dryRun = dryRun;
      this.started = started;
      this.before = before;
    }

    boolean preview() {
      return dryRun || controls.suspended();
    }

    /** How messages name the cluster the sync got to, if it got to one. */
    String where() {
      return target == null ? "" : target.where();
    }

    Outcome outcome(String namespace, Result result, String message) {
      return new Outcome(this, namespace, result, message);
    }
  }

  private record Outcome(Sync run, String namespace, Result result, String message) {}

  private EnvironmentStatus finish(Outcome outcome) {
    Sync run = outcome.run();
    Result result = outcome.result();
    Duration took = Duration.between(run.started, Instant.now());
    Instant lastSuccess = result == Result.SYNCED ? Instant.now()
        : run.before.map(EnvironmentStatus::lastSuccessTime).orElse(null);
    long totalDrift = run.drift + run.before.map(EnvironmentStatus::driftCorrections).orElse(0L);
    Health health = run.health != null ? run.health : run.before.map(EnvironmentStatus::health).orElse(Health.UNKNOWN);
    String backup = !run.backup.isEmpty() ? run.backup
        : run.before.map(EnvironmentStatus::lastBackupBeforeChange).orElse("");
    EnvironmentStatus status = new EnvironmentStatus(run.name, outcome.namespace(), run.cluster, run.revision, result,
        outcome.message(), Instant.now(), took, lastSuccess, run.objects, totalDrift, health,
        run.controls.suspension(), backup);
    if (!run.dryRun) {
      record.finished(status, took);
      if (result == Result.FAILED || result == Result.PROGRESSING || result == Result.HELD || result == Result.PRUNE_HELD) {
        LOG.warn("{}: {} ({})", run.name, result.label(), outcome.message());
      } else {
        LOG.info("{}: {} at {} in {} ms: {}", run.name, result.label(), shortRevision(run.revision), took.toMillis(),
            outcome.message());
      }
    }
    return status;
  }

  static String shortRevision(String revision) {
    return revision.length() > 12 ? revision.substring(0, 12) : revision;
  }
}
