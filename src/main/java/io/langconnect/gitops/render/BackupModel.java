package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.CronJobBuilder;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Scheduled pg_dump backups: a CronJob running the database's own image (it has pg_dump), writing to a
 * volume claim of its own that pruning never deletes.
 */
final class BackupModel {

  static final String MOUNT = "/backups";

  /**
   * Dump to a temporary name, verify the dump can be read back, rename it atomically, and only then delete
   * the oldest dumps beyond the retention. Any failure exits non-zero before anything is deleted.
   */
  static final String BACKUP_SCRIPT = """
      set -eu
      dir="${BACKUP_DIR:-/backups}"
      stamp="$(date -u +%Y%m%dT%H%M%SZ)"
      tmp="$dir/.in-progress-$stamp-$$.dump"
      final="$dir/$PGDATABASE-$stamp.dump"
      trap 'rm -f "$tmp"' EXIT
      pg_dump --format=custom --file="$tmp"
      pg_restore --list "$tmp" > /dev/null
      mv "$tmp" "$final"
      echo "backup written: $final ($(wc -c < "$final") bytes)"
      ls -1 "$dir" | grep -E "^$PGDATABASE-[0-9]{8}T[0-9]{6}Z\\\\.dump$" | sort -r | tail -n +$((RETENTION + 1)) |
        while read -r old; do rm -f "$dir/$old"; echo "removed $dir/$old (retention $RETENTION)"; done
      """;

  /**
   * Restore one dump from the backups claim: the newest ({@code BACKUP_FILE=latest}) or a named one. It is
   * read back before anything is touched; then pg_restore replaces the objects it holds.
   */
  static final String RESTORE_SCRIPT = """
      set -eu
      dir="${BACKUP_DIR:-/backups}"
      if [ "$BACKUP_FILE" = latest ]; then
        file="$(ls -1 "$dir" | grep -E "^$PGDATABASE-[0-9]{8}T[0-9]{6}Z\\.dump$" | sort | tail -n 1 || true)"
      else
        file="$BACKUP_FILE"
      fi
      [ -n "$file" ] || { echo "no backup of $PGDATABASE in $dir" >&2; exit 1; }
      case "$file" in /*) path="$file" ;; *) path="$dir/$file" ;; esac
      pg_restore --list "$path" > /dev/null
      echo "restoring $path into $PGDATABASE"
      pg_restore --clean --if-exists --no-owner --exit-on-error --dbname="$PGDATABASE" "$path"
      echo "restored $path"
      """;

  private final EnvironmentValues values;
  private final EnvironmentValues.Backup backup;
  private final Names names;
  private final Optional<String> revision;
  private final PostgresModel postgres;

  BackupModel(EnvironmentValues values, Optional<String> revision, PostgresModel postgres) {
    this.values = values;
    this.backup = values.backup();
    this.names = new Names(values.release());
    this.revision = revision;
    this.postgres = postgres;
  }

  /** Null unless backups are enabled. */
  PersistentVolumeClaim backupClaim() {
    if (!backup.enabled()) return null;
    return new PersistentVolumeClaimBuilder()
        .withMetadata(PodParts.metadata(names.backupClaim(), values, Labels.BACKUP, revision))
        .withNewSpec()
        .withAccessModes("ReadWriteOnce")
        .withStorageClassName(backup.storageClass().isEmpty() ? null : backup.storageClass())
        .withNewResources().withRequests(Map.of("storage", new Quantity(backup.storageSize()))).endResources()
        .endSpec()
        .build();
  }

  /** Null unless backups are enabled. */
  CronJob cronJob() {
    if (!backup.enabled()) return null;
    return new CronJobBuilder()
        .withMetadata(PodParts.metadata(names.backupCronJob(), values, Labels.BACKUP, revision))
        .withNewSpec()
        .withSchedule(backup.schedule())
        .withTimeZone(backup.timeZone().isEmpty() ? null : backup.timeZone())
        .withConcurrencyPolicy("Forbid")
        .withStartingDeadlineSeconds(3600L)
        .withSuccessfulJobsHistoryLimit(3)
        .withFailedJobsHistoryLimit(3)
        .withNewJobTemplate()
        .withNewMetadata().withLabels(Labels.object(values.release(), Labels.BACKUP, values.environment())).endMetadata()
        .withNewSpec()
        .withBackoffLimit(2)
        .withActiveDeadlineSeconds(6 * 3600L)
        .withNewTemplate()
        .withNewMetadata().withLabels(PodParts.podLabels(values, Labels.BACKUP)).endMetadata()
        .withSpec(podSpec(List.of("/bin/sh", "-c", BACKUP_SCRIPT), List.of(
            PodParts.literal("BACKUP_DIR", MOUNT),
            PodParts.literal("RETENTION", Integer.toString(backup.retention())))))
        .endTemplate()
        .endSpec()
        .endJobTemplate()
        .endSpec()
        .build();
  }

  /** A pod that reaches the database as its own user and mounts the backups claim; used by backup and restore. */
  PodSpec podSpec(List<String> command, List<EnvVar> extraEnv) {
    EnvironmentValues.Auth auth = values.postgres().auth();
    List<EnvVar> env = new java.util.ArrayList<>(List.of(
        PodParts.literal("PGHOST", names.postgres()),
        PodParts.literal("PGPORT", Integer.toString(values.postgres().service().port())),
        PodParts.literal("PGUSER", auth.username()),
        PodParts.fromSecret("PGPASSWORD", postgres.secretName(), PostgresModel.PASSWORD_KEY),
        PodParts.literal("PGDATABASE", auth.database())));
    env.addAll(extraEnv);
    return new PodSpecBuilder()
        .withRestartPolicy("Never")
        .withAutomountServiceAccountToken(false)
        .withImagePullSecrets(PodParts.pullSecrets(values))
        .withSecurityContext(PodParts.podSecurity(PostgresModel.UID))
        .addToContainers(PodParts.container("backup", values.postgres().image(), env, backup.resources(), PostgresModel.UID)
            .withCommand(command)
            .addNewVolumeMount().withName("backups").withMountPath(MOUNT).endVolumeMount()
            .build())
        .addNewVolume().withName("backups").withNewPersistentVolumeClaim().withClaimName(names.backupClaim())
        .endPersistentVolumeClaim().endVolume()
        .withNodeSelector(PodParts.nodeSelector(values.postgres().scheduling()))
        .withTolerations(PodParts.tolerations(values.postgres().scheduling()))
        .build();
  }
}
