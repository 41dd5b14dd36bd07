package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
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
 * volume claim of its own that pruning never deletes. With an object store, the dump is made by an init container
 * and uploaded by the uploader (rclone) into {@code <bucket>/<prefix>/<environment>/}, off the cluster; the claim
 * is then kept only with {@code keepLocalCopy}.
 */
final class BackupModel {

  static final String MOUNT = "/backups";

  /**
   * Dump to a temporary name, verify the dump can be read back, rename it atomically, and only then delete
   * the oldest dumps beyond the retention (and, with KEEP_DAYS, only those older than that: a run of dumps of an
   * emptied database never rotates out every good one). Any failure exits non-zero before anything is deleted.
   */
  static final String BACKUP_SCRIPT = """
      set -eu
      dir="${BACKUP_DIR:-/backups}"
      stamp="$(date -u +%Y%m%dT%H%M%SZ)"
      tmp="$dir/.in-progress-$stamp-$$.dump"
      final="$dir/$PGDATABASE-$stamp${DUMP_SUFFIX:-}.dump"
      trap 'rm -f "$tmp"' EXIT
      pg_dump --format=custom --file="$tmp"
      pg_restore --list "$tmp" > /dev/null
      mv "$tmp" "$final"
      echo "backup written: $final ($(wc -c < "$final") bytes)"
      cutoff="$PGDATABASE-$(date -u -d "@$(( $(date -u +%s) - ${KEEP_DAYS:-0} * 86400 ))" +%Y%m%dT%H%M%SZ).dump"
      ls -1 "$dir" | grep -E "^$PGDATABASE-[0-9]{8}T[0-9]{6}Z\\\\.dump$" | sort -r | tail -n +$((RETENTION + 1)) |
        while read -r old; do
          [ "$(printf '%s\\n%s\\n' "$old" "$cutoff" | sort | head -n 1)" = "$old" ] || continue # younger than KEEP_DAYS
          rm -f "$dir/$old"; echo "removed $dir/$old (retention $RETENTION, older than ${KEEP_DAYS:-0} days)"
        done
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
      server="$(( $(psql -XAt -c 'SHOW server_version_num') / 10000 ))"
      tools="$(pg_restore --version | sed -E 's/^[^0-9]*([0-9]+).*/\\1/')"
      if [ "$tools" -gt "$server" ]; then
        echo "pg_restore $tools cannot restore into PostgreSQL $server (it writes settings an older server refuses);" \
          "expected postgres.image of PostgreSQL $server; nothing was restored" >&2
        exit 1
      fi
      list="$dir/.restore-$$.list"
      trap 'rm -f "$list"' EXIT
      pg_restore --list "$path" > "$list.all"
      # Extensions the database has already are left alone: an owner who is not superuser (a managed database's)
      # may not drop, create or comment on them.
      present="$(psql -XAt -c "SELECT string_agg(extname, '|') FROM pg_extension")"
      grep -v -E "^[0-9]+; [0-9]+ [0-9]+ (EXTENSION - |COMMENT - EXTENSION )($present) " "$list.all" > "$list" || true
      rm -f "$list.all"
      echo "restoring $path into $PGDATABASE in one transaction: a failure half way leaves the database as it was"
      pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error --use-list="$list" \
        --dbname="$PGDATABASE" "$path"
      echo "restored $path"
      """;

  /**
   * Upload the newest dump, check what landed (size and checksum, as rclone check compares them), and only then
   * delete the oldest dumps beyond the retention, only in this environment's own folder and only by its own name
   * pattern. The termination message tells the collector what was uploaded. Credentials come from the environment.
   */
  static final String UPLOAD_SCRIPT = """
      set -eu
      : > "$RCLONE_CONFIG"
      dir="${BACKUP_DIR:-/backups}"
      store="store:$DESTINATION"
      file="$(ls -1 "$dir" | grep -E "^$PGDATABASE-[0-9]{8}T[0-9]{6}Z${DUMP_SUFFIX:-}\\.dump$" | sort | tail -n 1 || true)"
      [ -n "$file" ] || { echo "no dump of $PGDATABASE in $dir to upload" >&2; exit 1; }
      size="$(wc -c < "$dir/$file")"
      rclone copyto "$dir/$file" "$store/$file"
      rclone check --one-way --include "$file" "$dir" "$store"
      echo "uploaded $file ($size bytes) to $DESTINATION and checked its size and checksum there"
      cutoff="$PGDATABASE-$(date -u -d "@$(( $(date -u +%s) - ${KEEP_DAYS:-0} * 86400 ))" +%Y%m%dT%H%M%SZ).dump"
      rclone lsf --files-only "$store" | grep -E "^$PGDATABASE-[0-9]{8}T[0-9]{6}Z\\.dump$" | sort -r |
        tail -n +$((RETENTION + 1)) |
        while read -r old; do
          [ "$(printf '%s\\n%s\\n' "$old" "$cutoff" | sort | head -n 1)" = "$old" ] || continue # younger than KEEP_DAYS
          rclone deletefile "$store/$old"; echo "removed $DESTINATION/$old (retention $RETENTION, older than ${KEEP_DAYS:-0} days)"
        done
      printf 'uploaded %s %s\\n' "$file" "$size" > /dev/termination-log
      """;

  /** Fetch one dump of this environment from the object store (the newest, or a named one) for the restore. */
  static final String DOWNLOAD_SCRIPT = """
      set -eu
      : > "$RCLONE_CONFIG"
      dir="${BACKUP_DIR:-/backups}"
      store="store:$DESTINATION"
      if [ "$BACKUP_FILE" = latest ]; then
        file="$(rclone lsf --files-only "$store" | grep -E "^$PGDATABASE-[0-9]{8}T[0-9]{6}Z\\.dump$" | sort | tail -n 1 || true)"
      else
        file="$BACKUP_FILE"
      fi
      [ -n "$file" ] || { echo "no backup of $PGDATABASE in $DESTINATION" >&2; exit 1; }
      rclone copyto "$store/$file" "$dir/$DOWNLOADED"
      echo "downloaded $DESTINATION/$file"
      """;

  /** Where the download puts the dump for the restore container. */
  static final String DOWNLOADED = "from-object-store.dump";
  private static final String CA_MOUNT = "/etc/backup-store-ca";

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

  /**
   * Whether the pg_dump CronJob runs: with backups on, unless CloudNativePG backs up to the object store itself
   * (base backups and WAL: point-in-time recovery instead of dumps).
   */
  private boolean dumps() {
    return backup.enabled() && !values.cloudnativePgArchives();
  }

  /** Null unless dumps are made and kept on the cluster (no object store, or keepLocalCopy). */
  PersistentVolumeClaim backupClaim() {
    if (!dumps() || !backup.localCopy()) return null;
    return new PersistentVolumeClaimBuilder()
        .withMetadata(PodParts.metadata(names.backupClaim(), values, Labels.BACKUP, revision))
        .withNewSpec()
        .withAccessModes("ReadWriteOnce")
        .withStorageClassName(backup.storageClass().isEmpty() ? null : backup.storageClass())
        .withNewResources().withRequests(Map.of("storage", new Quantity(backup.storageSize()))).endResources()
        .endSpec()
        .build();
  }

  /** Null unless dumps are made (see {@link #dumps()}). */
  CronJob cronJob() {
    if (!dumps()) return null;
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
        .withSpec(backupPodSpec())
        .endTemplate()
        .endSpec()
        .endJobTemplate()
        .endSpec()
        .build();
  }

  /** The backup pod: pg_dump; with an object store, pg_dump first (an init container) and then the upload. */
  PodSpec backupPodSpec() {
    List<EnvVar> env = List.of(PodParts.literal("BACKUP_DIR", MOUNT),
        PodParts.literal("RETENTION", Integer.toString(backup.retention())),
        PodParts.literal("KEEP_DAYS", Integer.toString(backup.keepDays())));
    Container dump = databaseContainer("backup", BACKUP_SCRIPT, env);
    if (backup.objectStore().isEmpty()) return podSpec(List.of(), dump);
    return podSpec(List.of(new ContainerBuilder(dump).withName("dump").build()), storeContainer("upload", UPLOAD_SCRIPT, env));
  }

  /** The restore pod: pg_restore of {@code file}; with an object store, the dump is downloaded first. */
  PodSpec restorePodSpec(String file) {
    if (backup.objectStore().isEmpty()) {
      return podSpec(List.of(), databaseContainer("restore", RESTORE_SCRIPT, List.of(PodParts.literal("BACKUP_DIR", MOUNT),
          PodParts.literal("BACKUP_FILE", file))));
    }
    Container download = storeContainer("download", DOWNLOAD_SCRIPT, List.of(PodParts.literal("BACKUP_DIR", MOUNT),
        PodParts.literal("BACKUP_FILE", file), PodParts.literal("DOWNLOADED", DOWNLOADED)));
    return podSpec(List.of(download), databaseContainer("restore", RESTORE_SCRIPT, List.of(
        PodParts.literal("BACKUP_DIR", MOUNT), PodParts.literal("BACKUP_FILE", MOUNT + "/" + DOWNLOADED))));
  }

  /**
   * A pod that only waits, for a local dump to be streamed through it into an external database (which has no pod
   * of ours to stream into); TERM ends it at once. Its scratch space is an emptyDir, never the backups claim.
   */
  PodSpec importPodSpec() {
    Container client = databaseContainer("import", "trap 'exit 0' TERM; while :; do sleep 5 & wait $!; done", List.of());
    PodSpec pod = podSpec(List.of(), client, false);
    pod.setActiveDeadlineSeconds(6 * 3600L);
    return pod;
  }

  /** A container of the database's image that reaches the database as its own user. */
  private Container databaseContainer(String name, String script, List<EnvVar> extraEnv) {
    EnvironmentValues.Auth auth = values.postgres().auth();
    List<EnvVar> env = new java.util.ArrayList<>(List.of(
        PodParts.literal("PGHOST", postgres.host()),
        PodParts.literal("PGPORT", Integer.toString(postgres.port())),
        PodParts.literal("PGUSER", auth.username()),
        PodParts.fromSecret("PGPASSWORD", postgres.secretName(), postgres.passwordKey()),
        PodParts.literal("PGDATABASE", auth.database())));
    env.addAll(postgres.clientTlsEnv());
    env.addAll(extraEnv);
    ContainerBuilder container = PodParts.container(name, values.postgres().image(), env, backup.resources(), PostgresModel.UID)
        .withCommand("/bin/sh", "-c", script)
        .addNewVolumeMount().withName("backups").withMountPath(MOUNT).endVolumeMount();
    postgres.mountCa(container);
    return container.build();
  }

  /**
   * A container of the uploader's image with the object store as rclone's remote "store", configured from the
   * environment: the credentials by Secret reference only, never in the script, the arguments or a log line.
   */
  private Container storeContainer(String name, String script, List<EnvVar> extraEnv) {
    EnvironmentValues.ObjectStore store = backup.objectStore().orElseThrow();
    List<EnvVar> env = new java.util.ArrayList<>(List.of(
        PodParts.literal("PGDATABASE", values.postgres().auth().database()),
        PodParts.literal("DESTINATION", store.folder(values.environment())),
        PodParts.literal("HOME", "/tmp"),
        PodParts.literal("RCLONE_CONFIG", "/tmp/rclone.conf"),
        PodParts.literal("RCLONE_CONFIG_STORE_TYPE", "s3"),
        PodParts.literal("RCLONE_CONFIG_STORE_PROVIDER", "Other"),
        PodParts.literal("RCLONE_CONFIG_STORE_ENV_AUTH", "false"),
        PodParts.literal("RCLONE_CONFIG_STORE_NO_CHECK_BUCKET", "true"),
        PodParts.fromSecret("RCLONE_CONFIG_STORE_ACCESS_KEY_ID", store.accessKeyId().name(), store.accessKeyId().key()),
        PodParts.fromSecret("RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY", store.secretAccessKey().name(),
            store.secretAccessKey().key())));
    store.endpointURL().ifPresent(url -> env.add(PodParts.literal("RCLONE_CONFIG_STORE_ENDPOINT", url)));
    store.region().ifPresent(region -> env.add(PodParts.literal("RCLONE_CONFIG_STORE_REGION", region)));
    store.endpointCA().ifPresent(ca -> env.add(PodParts.literal("RCLONE_CA_CERT", CA_MOUNT + "/" + ca.key())));
    env.addAll(extraEnv);
    var container = PodParts.container(name, store.uploaderImage(), env, backup.resources(), PostgresModel.UID)
        .withCommand("/bin/sh", "-c", script)
        .addNewVolumeMount().withName("backups").withMountPath(MOUNT).endVolumeMount()
        .addNewVolumeMount().withName("scratch").withMountPath("/tmp").endVolumeMount();
    if (store.endpointCA().isPresent()) {
      container.addNewVolumeMount().withName("store-ca").withMountPath(CA_MOUNT).withReadOnly(true).endVolumeMount();
    }
    return container.build();
  }

  /** The pod around them: the backups claim (or, without a local copy, an emptyDir), as the database's pods are placed. */
  private PodSpec podSpec(List<Container> init, Container main) {
    return podSpec(init, main, backup.localCopy());
  }

  private PodSpec podSpec(List<Container> init, Container main, boolean backupsClaim) {
    PodSpecBuilder pod = new PodSpecBuilder()
        .withRestartPolicy("Never")
        .withAutomountServiceAccountToken(false)
        .withImagePullSecrets(PodParts.pullSecrets(values))
        .withSecurityContext(PodParts.podSecurity(PostgresModel.UID))
        .withInitContainers(init)
        .addToContainers(main)
        .withNodeSelector(PodParts.nodeSelector(values.postgres().scheduling()))
        .withTolerations(PodParts.tolerations(values.postgres().scheduling()));
    if (backupsClaim) {
      pod.addNewVolume().withName("backups").withNewPersistentVolumeClaim().withClaimName(names.backupClaim())
          .endPersistentVolumeClaim().endVolume();
    } else {
      pod.addNewVolume().withName("backups").withNewEmptyDir().endEmptyDir().endVolume();
    }
    postgres.caVolume().ifPresent(pod::addToVolumes);
    backup.objectStore().ifPresent(store -> {
      pod.addNewVolume().withName("scratch").withNewEmptyDir().endEmptyDir().endVolume();
      store.endpointCA().ifPresent(ca -> pod.addNewVolume().withName("store-ca").withNewSecret()
          .withSecretName(ca.name()).endSecret().endVolume());
    });
    return pod.build();
  }
}
