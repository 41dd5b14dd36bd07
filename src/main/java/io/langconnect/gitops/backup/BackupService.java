package io.langconnect.gitops.backup;

import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ExecWatch;
import io.langconnect.gitops.render.BackupJobs;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.render.Names;
import io.langconnect.gitops.values.EnvironmentValues;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * On-demand backups and restores against the cluster. Blocking. A backup is a Job made from the CronJob's
 * own template (as {@code kubectl create job --from=cronjob/...}); a restore is a Job on the backups claim,
 * or a local dump streamed into the database pod.
 */
public final class BackupService {

  static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  /** A mistake the caller can fix: no such environment, no backups configured. */
  public static final class BackupException extends Exception {
    public BackupException(String message) {
      super(message);
    }
  }

  private final KubernetesClient client;

  public BackupService(KubernetesClient client) {
    this.client = client;
  }

  /** The environment's backup CronJob, found by its labels. */
  public CronJob cronJob(String namespace, String environment) throws BackupException {
    return cronJobIn(namespace, environment).orElseThrow(() -> noCronJob(namespace, environment));
  }

  private static BackupException noCronJob(String namespace, String environment) {
    return new BackupException("environment " + environment + " has no backup CronJob in " + namespace
        + "; expected backup.enabled: true (the default where postgres.persistence.enabled is true) and a sync");
  }

  /** A backup started, by its kind ({@code Job}: a dump; {@code Backup}: CloudNativePG's) and name. */
  public record Started(String kind, String name) {
    /** The key the API answers its name under: {@code job} or {@code backup}. */
    public String key() {
      return kind.toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Starts a backup now; returns the Job's name (see {@link #start}). */
  public String backupNow(String namespace, String environment) throws BackupException {
    return start(namespace, environment).name();
  }

  /**
   * Starts a backup now: a Job made from the dump CronJob; on CloudNativePG with the object store (no dump CronJob, a
   * ScheduledBackup instead), a Backup of the Cluster the ScheduledBackup backs up.
   */
  public Started start(String namespace, String environment) throws BackupException {
    Optional<CronJob> cron = cronJobIn(namespace, environment);
    if (cron.isPresent()) return new Started("Job", dumpNow(cron.get(), namespace, Map.of()));
    Optional<String> cluster = CloudnativePgBackups.scheduledCluster(client, namespace, environment);
    if (cluster.isEmpty()) throw noCronJob(namespace, environment);
    return new Started("Backup", new CloudnativePgBackups(client).backupNow(namespace, cluster.get(), environment));
  }

  /** The name suffix of the dump a restore takes first: never "latest", never rotated out. */
  public static final String BEFORE_RESTORE = "-before-restore";

  private Optional<CronJob> cronJobIn(String namespace, String environment) {
    return client.batch().v1().cronjobs().inNamespace(namespace)
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER).withLabel(Labels.COMPONENT, Labels.BACKUP)
        .withLabel(Labels.ENVIRONMENT, environment).list().getItems().stream().findFirst();
  }

  /** Starts a backup now with {@code extraEnv} in its containers (e.g. DUMP_SUFFIX); returns the Job's name. */
  public String backupNow(String namespace, String environment, Map<String, String> extraEnv) throws BackupException {
    return dumpNow(cronJob(namespace, environment), namespace, extraEnv);
  }

  private String dumpNow(CronJob cron, String namespace, Map<String, String> extraEnv) {
    String base = cron.getMetadata().getName() + "-manual-" + STAMP.format(Instant.now());
    for (int attempt = 0; ; attempt++) {
      // Names carry the second they were made in; a second backup within it gets a suffix.
      String name = truncate(attempt == 0 ? base : base.substring(0, Math.min(base.length(), 58)) + "-" + attempt);
      try {
        Job job = job(cron, namespace, name);
        var pod = job.getSpec().getTemplate().getSpec();
        java.util.stream.Stream.concat(pod.getInitContainers().stream(), pod.getContainers().stream())
            .forEach(c -> extraEnv.forEach((k, v) -> c.getEnv().add(new io.fabric8.kubernetes.api.model.EnvVar(k, v, null))));
        client.resource(job).create();
        return name;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt >= 5) throw e;
      }
    }
  }

  private static Job job(CronJob cron, String namespace, String name) {
    return new JobBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace)
        .withLabels(cron.getSpec().getJobTemplate().getMetadata() == null ? null : cron.getSpec().getJobTemplate().getMetadata().getLabels())
        .addToAnnotations("cronjob.kubernetes.io/instantiate", "manual")
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("batch/v1").withKind("CronJob")
            .withName(cron.getMetadata().getName()).withUid(cron.getMetadata().getUid()).withController(true).build())
        .endMetadata()
        .withSpec(cron.getSpec().getJobTemplate().getSpec())
        .build();
  }

  /**
   * Runs a backup now and waits for it: returns the Job's name once it completed; throws, naming the Job and its
   * reason, when it failed or did not finish within {@code timeout}. Blocking.
   */
  public String backupAndWait(String namespace, String environment, java.time.Duration timeout) throws BackupException {
    String name = backupNow(namespace, environment);
    awaitJob(namespace, name, "backup", timeout);
    return name;
  }

  /**
   * Waits for a Job made here: returns once it completed; throws, naming the Job and its reason, when it failed or did
   * not finish within {@code timeout}. Blocking.
   */
  public void awaitJob(String namespace, String name, String what, java.time.Duration timeout) throws BackupException {
    long deadline = System.nanoTime() + timeout.toNanos();
    var resource = client.batch().v1().jobs().inNamespace(namespace).withName(name);
    while (true) {
      Job job = resource.get();
      if (job == null) throw new BackupException(what + " Job " + name + " in " + namespace + " disappeared before it finished");
      var conditions = job.getStatus() == null || job.getStatus().getConditions() == null
          ? java.util.List.<io.fabric8.kubernetes.api.model.batch.v1.JobCondition>of() : job.getStatus().getConditions();
      for (var condition : conditions) {
        if (!"True".equals(condition.getStatus())) continue;
        if ("Complete".equals(condition.getType())) return;
        if ("Failed".equals(condition.getType())) {
          throw new BackupException(what + " Job " + name + " in " + namespace + " failed: " + condition.getReason()
              + (condition.getMessage() == null ? "" : " (" + condition.getMessage() + ")")
              + "; read `kubectl -n " + namespace + " logs job/" + name + " --all-containers`");
        }
      }
      if (System.nanoTime() > deadline) {
        throw new BackupException(what + " Job " + name + " in " + namespace + " did not finish within "
            + timeout.toSeconds() + "s; check `kubectl -n " + namespace + " describe job " + name + "`");
      }
      try {
        Thread.sleep(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BackupException("interrupted while waiting for " + what + " Job " + name);
      }
    }
  }

  /** Starts a restore Job from the object store, or else the backups claim; returns its name. */
  public String restoreFromBackups(EnvironmentValues values, String backup) throws BackupException {
    // A name, never a path: a restore reads only this environment's own dumps.
    if (!backup.equals("latest") && !backup.matches("[A-Za-z0-9_][A-Za-z0-9_.-]*\\.dump")) {
      throw new BackupException("--backup " + backup + ": expected latest or the file name of one of the environment's"
          + " dumps, such as " + values.postgres().auth().database() + "-20261124T030000Z.dump");
    }
    cronJob(values.namespace(), values.environment());
    String name = truncate(new Names(values.release()).postgres() + "-restore-" + STAMP.format(Instant.now()));
    client.resource(BackupJobs.restoreJob(values, backup, name)).create();
    return name;
  }

  /** Ready and not on its way out: a pod being deleted may still run, in the middle of shutting PostgreSQL down. */
  private static boolean serving(Pod pod) {
    return pod.getMetadata().getDeletionTimestamp() == null && pod.getStatus() != null
        && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /**
   * Streams a local dump into the running database pod: plain SQL (as {@code pg_dump} of a Docker Compose setup
   * writes it) through psql, custom format through pg_restore. Returns what the tool printed.
   */
  public String restoreFromFile(EnvironmentValues values, Path dump) throws BackupException, IOException {
    if (!values.postgres().bundled()) {
      Pod importer = startImportPod(values);
      try {
        return restoreFromFile(values, dump, importer, "import", "");
      } finally {
        client.pods().inNamespace(values.namespace()).withName(importer.getMetadata().getName()).delete();
      }
    }
    Pod pod = client.pods().inNamespace(values.namespace())
        .withLabel(Labels.INSTANCE, values.release()).withLabel(Labels.COMPONENT, Labels.POSTGRES).list().getItems()
        .stream().filter(BackupService::serving).findFirst()
        .orElseThrow(() -> new BackupException("no ready PostgreSQL pod of " + values.environment() + " in "
            + values.namespace() + "; the import streams into the database pod"));
    String user = values.postgres().auth().username();
    return restoreFromFile(values, dump, pod, "postgres", " -U " + user + " -d " + values.postgres().auth().database());
  }

  /** An external database has no pod of ours: a client pod is started to stream through, and waited for. */
  private Pod startImportPod(EnvironmentValues values) throws BackupException {
    String name = truncate(new Names(values.release()).postgres() + "-import-" + STAMP.format(Instant.now()));
    client.resource(BackupJobs.importPod(values, name)).create();
    try {
      return client.pods().inNamespace(values.namespace()).withName(name).waitUntilCondition(
          pod -> pod != null && pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase()), 5, TimeUnit.MINUTES);
    } catch (KubernetesClientException e) {
      client.pods().inNamespace(values.namespace()).withName(name).delete();
      throw new BackupException("the import pod " + name + " in " + values.namespace() + " did not start within 5m: "
          + e.getMessage());
    }
  }

  /** Streams {@code dump} into {@code container} of {@code pod}; {@code target} adds how the tools reach the database. */
  private String restoreFromFile(EnvironmentValues values, Path dump, Pod pod, String container, String target)
      throws BackupException, IOException {
    boolean custom;
    try (InputStream in = Files.newInputStream(dump)) {
      custom = new String(in.readNBytes(5), StandardCharsets.US_ASCII).equals("PGDMP");
    }
    // An exec's stdin is not closed on the pod's side when the client closes it (the API server's websocket
    // protocol has no end-of-input before v5, so psql would wait forever): head reads exactly the file's size.
    String size = Long.toString(Files.size(dump));
    // Into the import pod of an external database, a custom dump is saved first and restored as a restore Job does
    // (extensions it has are left alone: its owner may not be superuser); into our own pod, straight from stdin.
    String[] command = !custom ? new String[] {"sh", "-c", "head -c " + size + " | psql -v ON_ERROR_STOP=1 --single-transaction" + target}
        : target.isEmpty() ? new String[] {"sh", "-c", "head -c " + size + " > /backups/import.dump && BACKUP_FILE=/backups/import.dump"
            + " exec sh -c \"$0\"", BackupJobs.restoreScript()}
        : new String[] {"sh", "-c", "head -c " + size + " | pg_restore --clean --if-exists --no-owner --single-transaction"
            + " --exit-on-error" + target};
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    try (ExecWatch exec = client.pods().inNamespace(values.namespace()).withName(pod.getMetadata().getName())
        .inContainer(container).redirectingInput().writingOutput(output).writingError(output)
        .exec(command)) {
      try (OutputStream stdin = exec.getInput(); InputStream file = Files.newInputStream(dump)) {
        file.transferTo(stdin);
      }
      Integer code = exec.exitCode().get(6, TimeUnit.HOURS);
      if (code == null || code != 0) {
        throw new BackupException((custom ? "pg_restore" : "psql") + " exited with " + code + ": "
            + output.toString(StandardCharsets.UTF_8).strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackupException("interrupted while importing " + dump);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new BackupException("import of " + dump + " failed: " + e.getMessage());
    }
    return output.toString(StandardCharsets.UTF_8);
  }

  private static String truncate(String name) {
    return name.length() <= 63 ? name : name.substring(0, 63).replaceAll("-+$", "");
  }

}
