package io.langconnect.gitops.sync;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.apply.Health;
import io.langconnect.gitops.cluster.Clusters;
import io.langconnect.gitops.control.Controls;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.EnvironmentStatus.ObjectStatus;
import io.langconnect.gitops.status.EnvironmentStatus.Result;
import io.langconnect.gitops.status.SyncRecord;
import io.langconnect.gitops.values.NamespacePolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One sync's (or prune's) context, filled in as it goes, and how it ends: a status, recorded and logged. */
final class SyncRun {

  // The outcome lines are the sync's: logged under SyncService, where users filter for them.
  private static final Logger LOG = LoggerFactory.getLogger(SyncService.class);

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

  SyncRun(String name, String revision, boolean dryRun, Instant started, Optional<EnvironmentStatus> before) {
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

  /**
   * A request refused because the environment's namespace is being deleted (the API server says so, or its Secret
   * grant went first): that ends by itself, so the sync is Progressing and looked at again within seconds, not
   * backed off as a failure; once the namespace is gone, the next sync holds a lost claim or makes it again.
   */
  boolean namespaceGoing(String namespace, KubernetesClientException e) {
    if (e.getCode() != 403 || target == null) return false;
    return String.valueOf(e.getMessage()).contains("is being terminated") || namespaceTerminating(namespace);
  }

  /** Whether the namespace is gone or being deleted: a database wait it ended is reported as the same. */
  boolean namespaceTerminating(String namespace) {
    if (target == null) return false;
    try {
      var live = target.client().namespaces().withName(namespace).get();
      return live == null || live.getMetadata().getDeletionTimestamp() != null;
    } catch (KubernetesClientException unreadable) {
      return false;
    }
  }

  Outcome namespaceBeingDeleted(String namespace) {
    return outcome(namespace, Result.PROGRESSING, target.where() + "namespace " + namespace
        + " is being deleted: nothing more is applied until it is gone");
  }

  /**
   * The controller is stopping or lost its Lease while this run went on: expected, not an error. Nothing is
   * recorded (the status board keeps the last real outcome) and the next leader syncs again from the cluster's
   * inventory.
   */
  EnvironmentStatus interrupted(String namespace, SyncRecord record) {
    LOG.info("sync of {} interrupted: the controller is stopping or lost its leadership; the next leader carries on", name);
    return new SyncRun(name, revision, true, started, before).outcome(namespace, Result.FAILED, "interrupted")
        .finish(record);
  }

  /** Where a run ended; {@link #finish} makes it the environment's status. */
  record Outcome(SyncRun run, String namespace, Result result, String message) {

    /** The status, with what the previous one knew and this run did not learn; recorded and logged unless a dry run. */
    EnvironmentStatus finish(SyncRecord record) {
      Duration took = Duration.between(run.started, Instant.now());
      Instant lastSuccess = result == Result.SYNCED ? Instant.now()
          : run.before.map(EnvironmentStatus::lastSuccessTime).orElse(null);
      long totalDrift = run.drift + run.before.map(EnvironmentStatus::driftCorrections).orElse(0L);
      Health health = run.health != null ? run.health : run.before.map(EnvironmentStatus::health).orElse(Health.UNKNOWN);
      String backup = !run.backup.isEmpty() ? run.backup
          : run.before.map(EnvironmentStatus::lastBackupBeforeChange).orElse("");
      EnvironmentStatus status = new EnvironmentStatus(run.name, namespace, run.cluster, run.revision, result, message,
          Instant.now(), took, lastSuccess, run.objects, totalDrift, health, run.controls.suspension(), backup);
      if (!run.dryRun) {
        record.finished(status, took);
        if (result == Result.FAILED || result == Result.PROGRESSING || result == Result.HELD
            || result == Result.PRUNE_HELD) {
          LOG.warn("{}: {} ({})", run.name, result.label(), message);
        } else {
          LOG.info("{}: {} at {} in {} ms: {}", run.name, result.label(), shortRevision(run.revision), took.toMillis(),
              message);
        }
      }
      return status;
    }
  }

  static String shortRevision(String revision) {
    return revision.length() > 12 ? revision.substring(0, 12) : revision;
  }
}
