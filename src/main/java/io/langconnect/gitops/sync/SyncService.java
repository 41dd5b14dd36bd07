package io.langconnect.gitops.sync;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.ObjectRef;
import io.langconnect.gitops.apply.SyncFailedException;
import io.langconnect.gitops.apply.SyncResult;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.sync.EnvironmentStatus.ObjectStatus;
import io.langconnect.gitops.sync.EnvironmentStatus.Result;
import io.langconnect.gitops.values.Problem;
import io.langconnect.gitops.values.ValuesFolder;
import java.time.Duration;
import java.time.Instant;
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

  private final Applier applier;
  private final InventoryStore inventories;
  private final EventRecorder events;
  private final SyncMetrics metrics;
  private final StatusBoard board;
  private final ControllerConfig.Sync settings;

  public SyncService(Applier applier, InventoryStore inventories, EventRecorder events, SyncMetrics metrics,
                     StatusBoard board, ControllerConfig.Sync settings) {
    this.applier = applier;
    this.inventories = inventories;
    this.events = events;
    this.metrics = metrics;
    this.board = board;
    this.settings = settings;
  }

  public EnvironmentStatus sync(ValuesFolder.Environment environment, String revision, boolean dryRun) {
    Instant started = Instant.now();
    String name = environment.name();
    Optional<EnvironmentStatus> before = board.get(name);
    if (!environment.isValid()) {
      if (!dryRun) metrics.environmentKnown(name, List.of());
      String problems = environment.problems().stream().filter(Problem::isError).limit(3).map(Problem::toString)
          .collect(Collectors.joining("; "));
      String message = "values are invalid, live objects left untouched: " + problems;
      String namespace = before.map(EnvironmentStatus::namespace).orElse("");
      if (!dryRun && !namespace.isEmpty()) events.warning(namespace, "InvalidValues", message);
      return finish(name, namespace, revision, Result.FAILED, message, started, List.of(), 0, before, dryRun);
    }
    var values = environment.values().get();
    List<HasMetadata> desired = StackRenderer.render(values, Optional.empty());
    if (!dryRun) metrics.environmentKnown(name, desired.stream().map(HasMetadata::getKind).distinct().toList());
    Inventory previous = Inventory.empty(name);
    String untrusted = null;
    try {
      try {
        previous = inventories.read(name).orElse(previous);
      } catch (InventoryStore.InvalidInventoryException e) {
        // Nothing it names is pruned; this sync's inventory replaces it.
        untrusted = e.getMessage() + ": nothing was pruned; it is rewritten from this sync";
        LOG.warn("{}: {}", name, untrusted);
        if (!dryRun) events.warning(values.namespace(), "InvalidInventory", untrusted);
      }
      SyncResult result = applier.apply(name, values.namespace(), desired, revision, previous,
          new Applier.Options(dryRun, settings.databaseReadyTimeout()));
      boolean changed = !result.inventory().objects().equals(previous.objects())
          || !result.inventory().namespace().equals(previous.namespace());
      if (!dryRun && (untrusted != null || changed)) inventories.write(result.inventory());
      if (!dryRun) {
        metrics.objects(name, result);
        reportSkipped(values.namespace(), result);
      }
      long drift = result.objects().stream().filter(SyncResult.ObjectResult::driftCorrected).count();
      String message = summary(result, dryRun) + (untrusted == null ? "" : "; " + untrusted);
      return finish(name, values.namespace(), revision, Result.SYNCED, message, started,
          result.objects().stream().map(ObjectStatus::of).toList(), drift, before, dryRun);
    } catch (SyncFailedException e) {
      if (Interruptions.isInterruption(e)) return interrupted(name, values.namespace(), revision, started, before);
      if (!dryRun) recordPartial(previous, values.namespace(), e.partial(), revision);
      if (!dryRun) events.warning(values.namespace(), switch (e.reason()) {
        case DATABASE_NOT_READY -> "WaitingForDatabase";
        case NOT_OURS -> "NotOurs";
        case API_ERROR -> "SyncFailed";
      }, e.getMessage());
      Result result = e.reason() == SyncFailedException.Reason.DATABASE_NOT_READY ? Result.PROGRESSING : Result.FAILED;
      return finish(name, values.namespace(), revision, result, e.getMessage(), started,
          e.partial().stream().map(ObjectStatus::of).toList(), 0, before, dryRun);
    } catch (RuntimeException e) {
      if (Interruptions.isInterruption(e)) return interrupted(name, values.namespace(), revision, started, before);
      LOG.error("sync of {} failed unexpectedly", name, e);
      return finish(name, values.namespace(), revision, Result.FAILED, "unexpected error: " + e.getMessage(), started,
          List.of(), 0, before, dryRun);
    }
  }

  /** Objects an inventory named that turned out not to be ours: left alone, and said so where users look. */
  private void reportSkipped(String namespace, SyncResult result) {
    List<String> skipped = result.objects().stream().filter(o -> o.action() == SyncResult.Action.SKIPPED)
        .map(o -> o.ref() + " in " + o.ref().namespace() + " (" + o.note() + ")").toList();
    if (!skipped.isEmpty()) {
      events.warning(namespace, "PruneSkipped", "not deleted, not this environment's: " + String.join(", ", skipped));
    }
  }

  /**
   * The controller is stopping or lost its Lease while this sync ran: expected, not an error. Nothing is
   * recorded (the status board keeps the last real outcome) and the next leader syncs again from the cluster's
   * inventory.
   */
  private EnvironmentStatus interrupted(String name, String namespace, String revision, Instant started,
                                        Optional<EnvironmentStatus> before) {
    LOG.info("sync of {} interrupted: the controller is stopping or lost its leadership; the next leader carries on", name);
    return finish(name, namespace, revision, Result.FAILED, "interrupted", started, List.of(), 0, before, true);
  }

  /** Environments that have an inventory in the cluster but no values file any more. */
  public List<String> removedEnvironments(Collection<String> present) {
    return inventories.environments().stream().filter(env -> !present.contains(env)).toList();
  }

  /** Prunes an environment whose values file was removed; its PVCs and namespace stay. */
  public EnvironmentStatus pruneRemoved(String environment, String revision, boolean dryRun) {
    Instant started = Instant.now();
    try {
      Optional<Inventory> inventory;
      try {
        inventory = inventories.read(environment);
      } catch (InventoryStore.InvalidInventoryException e) {
        String message = e.getMessage() + ": nothing was pruned; fix or delete it to go on";
        LOG.warn("{}: {}", environment, message);
        return finish(environment, "", revision, Result.FAILED, message, started, List.of(), 0, Optional.empty(), dryRun);
      }
      if (inventory.isEmpty()) return finish(environment, "", revision, Result.PRUNED, "nothing to prune", started,
          List.of(), 0, Optional.empty(), dryRun);
      String namespace = inventory.get().namespace();
      SyncResult result = applier.pruneAll(inventory.get(), dryRun);
      if (!dryRun) {
        inventories.delete(environment);
        reportSkipped(namespace, result);
      }
      String message = "values file removed: pruned " + result.count(SyncResult.Action.PRUNED) + " object(s), kept "
          + result.count(SyncResult.Action.RETAINED) + " volume claim(s) and the namespace"
          + skippedNote(result);
      EnvironmentStatus status = finish(environment, namespace, revision, Result.PRUNED, message, started,
          result.objects().stream().map(ObjectStatus::of).toList(), 0, Optional.empty(), dryRun);
      if (!dryRun) {
        board.remove(environment);
        metrics.forget(environment);
      }
      return status;
    } catch (RuntimeException e) {
      if (Interruptions.isInterruption(e)) return interrupted(environment, "", revision, started, Optional.empty());
      return finish(environment, "", revision, Result.FAILED, "prune failed, will retry: " + e.getMessage(), started,
          List.of(), 0, Optional.empty(), dryRun);
    }
  }

  /**
   * After a failure, objects applied so far join the inventory (with no hash, so the next sync re-applies them).
   * An inventory holds one namespace: when the environment just moved, the old one is kept as it is.
   */
  private void recordPartial(Inventory previous, String namespace, List<SyncResult.ObjectResult> partial, String revision) {
    if (!previous.namespace().isEmpty() && !previous.namespace().equals(namespace)) return;
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
      inventories.write(new Inventory(previous.environment(), namespace, previous.revision(), merged));
    } catch (RuntimeException e) {
      LOG.warn("could not record the partial inventory of {}: {}", previous.environment(), e.getMessage());
    }
  }

  private static String summary(SyncResult result, boolean dryRun) {
    if (!result.changedAnything()) return "in sync";
    String prefix = dryRun ? "would have " : "";
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

  private EnvironmentStatus finish(String name, String namespace, String revision, Result result, String message,
                                   Instant started, List<ObjectStatus> objects, long drift,
                                   Optional<EnvironmentStatus> before, boolean dryRun) {
    Duration took = Duration.between(started, Instant.now());
    Instant lastSuccess = result == Result.SYNCED ? Instant.now()
        : before.map(EnvironmentStatus::lastSuccessTime).orElse(null);
    long totalDrift = drift + before.map(EnvironmentStatus::driftCorrections).orElse(0L);
    EnvironmentStatus status = new EnvironmentStatus(name, namespace, revision, result, message, Instant.now(), took,
        lastSuccess, objects, totalDrift);
    if (!dryRun) {
      board.put(status);
      metrics.syncFinished(name, result, took);
      if (result == Result.FAILED || result == Result.PROGRESSING) LOG.warn("{}: {} ({})", name, result, message);
      else LOG.info("{}: {} at {} in {} ms: {}", name, result, shortRevision(revision), took.toMillis(), message);
    }
    return status;
  }

  static String shortRevision(String revision) {
    return revision.length() > 12 ? revision.substring(0, 12) : revision;
  }
}
