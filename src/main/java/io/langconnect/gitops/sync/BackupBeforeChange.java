package io.langconnect.gitops.sync;

import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.apply.Workloads;
import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.values.EnvironmentValues;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With backups on and {@code backup.beforeChange}, a change that restarts PostgreSQL first runs the backup CronJob's
 * own Job and waits for it; a backup that fails holds the database change (the rest still syncs).
 */
final class BackupBeforeChange {

  private static final Logger LOG = LoggerFactory.getLogger(BackupBeforeChange.class);

  private BackupBeforeChange() {}

  /**
   * With backups on and {@code backup.beforeChange}, a change that restarts PostgreSQL first runs the backup
   * CronJob's own Job and waits for it; a backup that fails holds the database change (the rest still syncs).
   */
  static Applier.BeforeDatabaseRestart hook(SyncRun run, EnvironmentValues values, Duration backupTimeout) {
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
        String message = "the PostgreSQL change (" + what + ") " + HELD_WHILE_DOWN + ", so the backup"
            + " before it cannot be taken. To apply it without that backup, run `langconnect-gitops apply-without-backup"
            + " --env " + run.name + "` (or POST /api/v1/environments/" + run.name + "/apply-without-backup)";
        events.warning(namespace, "DatabaseChangeHeld", message);
        return Optional.of(message);
      }
      LOG.info("{}: the PostgreSQL pod changes ({}): backing up before restarting it", run.name, what);
      events.normal(namespace, "BackupBeforeChange", "the PostgreSQL pod changes (" + what
          + "): running a backup before restarting the database");
      try {
        run.backup = backups.backupAndWait(namespace, run.name, backupTimeout);
        LOG.info("{}: {}", run.name, describe(run, values));
        return Optional.empty();
      } catch (BackupService.BackupException e) {
        String message = "the PostgreSQL change (" + what + ") is held: " + e.getMessage()
            + "; the database keeps running unchanged and the change is tried again at the next sync";
        events.warning(namespace, "DatabaseChangeHeld", message);
        return Optional.of(message);
      }
    };
  }

  private static final String HELD_WHILE_DOWN = "is held: the database is not running";

  /** Whether the status is a change held only because the database did not run when its backup was due. */
  static boolean heldWhileDown(io.langconnect.gitops.status.EnvironmentStatus status) {
    return status.result() == io.langconnect.gitops.status.EnvironmentStatus.Result.HELD
        && status.message().contains(HELD_WHILE_DOWN);
  }

  static String describe(SyncRun run, EnvironmentValues values) {
    String where = values.backup().objectStore().map(store -> "in s3://" + store.folder(values.environment()) + "/")
        .orElse("on the backups volume");
    return "backup Job " + run.backup + " finished before PostgreSQL restarted; its dump is the newest " + where
        + ": `langconnect-gitops restore --env " + values.environment() + " --backup latest --confirm`";
  }
}
