package io.langconnect.gitops.values;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one environment's layered values say, validated and with defaults applied. Immutable:
 * collections are copies, so a record can be shared between threads and compared for change.
 */
public record EnvironmentValues(
    String environment,
    String release,
    String namespace,
    String cluster,
    boolean production,
    Map<String, String> podAnnotations,
    Map<String, String> podLabels,
    List<String> imagePullSecrets,
    Postgres postgres,
    LangConnect langconnect,
    Backup backup,
    Map<String, Source> origins) {

  public static final String DEFAULT_RELEASE = "langconnect";

  public EnvironmentValues {
    podAnnotations = Map.copyOf(podAnnotations);
    podLabels = Map.copyOf(podLabels);
    imagePullSecrets = List.copyOf(imagePullSecrets);
    origins = Map.copyOf(origins);
  }

  /** These values with their CloudNativePG Cluster replaced by the one a confirmed point-in-time restore made. */
  public EnvironmentValues withRecoveredCluster(String cluster) {
    Postgres p = postgres;
    Postgres recovered = new Postgres(p.image(), p.auth(), p.service(), p.persistence(), p.resources(), p.startupProbe(),
        p.livenessProbe(), p.readinessProbe(), p.env(), p.podAnnotations(), p.scheduling(), p.allowMajorUpgrade(),
        p.engine(), p.external(), p.instances(), Optional.of(cluster));
    return new EnvironmentValues(environment, release, namespace, cluster(), production, podAnnotations, podLabels,
        imagePullSecrets, recovered, langconnect, backup, origins);
  }

  /**
   * Whether CloudNativePG backs the database up itself: base backups and WAL archived to {@code backup.objectStore}
   * (point-in-time recovery; no pg_dump CronJob is rendered then).
   */
  public boolean cloudnativePgArchives() {
    return postgres.cloudnativePg() && backup.enabled() && backup.objectStore().isPresent();
  }

  /** Where a key the guards name was set ({@code file:line}), or the environment's own file when it was not. */
  public String origin(String key) {
    Source source = origins.get(key);
    if (source == null) source = origins.get("");
    if (source == null) return environment;
    return source.line() > 0 ? source.file() + ":" + source.line() : source.file();
  }

  public record Image(String repository, String tag, String pullPolicy) {
    /** {@code repo:tag}, or {@code repo@sha256:...} when the tag is a digest. */
    public String reference() {
      return tag.startsWith("sha256:") ? repository + "@" + tag : repository + ":" + tag;
    }
  }

  /** Database credentials; {@code password} is empty when it comes from {@code existingSecret} or is generated. */
  public record Auth(String username, Optional<String> password, String database, Optional<String> existingSecret) {}

  /** {@code existingClaim} names a claim the database uses instead of the one the controller would make. */
  /** {@code reclaimPolicy}: what the bound volume's policy is set to (Retain, Delete), or empty to leave it. */
  public record Persistence(boolean enabled, String size, String storageClass, String accessMode,
                            Optional<String> existingClaim, Optional<String> reclaimPolicy) {}

  /** Requests and limits by resource name ({@code cpu}, {@code memory}, {@code ephemeral-storage}), as written. */
  public record Resources(Map<String, String> limits, Map<String, String> requests) {
    public Resources {
      limits = Map.copyOf(limits);
      requests = Map.copyOf(requests);
    }

    public boolean isEmpty() {
      return limits.isEmpty() && requests.isEmpty();
    }
  }

  public record Probe(boolean enabled, String path, int initialDelaySeconds, int periodSeconds, int timeoutSeconds,
                      int successThreshold, int failureThreshold) {}

  public record Service(String type, int port) {}

  /** An extra container variable: a literal {@code value}, or a {@code valueFrom} source as Kubernetes spells it. */
  public record EnvVar(String name, Optional<String> value, Optional<Map<String, Object>> valueFrom) {}

  /** Pod placement, kept as the plain data the user wrote; the renderer turns it into Kubernetes objects. */
  public record Scheduling(Map<String, String> nodeSelector, List<Object> tolerations, Map<String, Object> affinity) {
    public Scheduling {
      nodeSelector = Map.copyOf(nodeSelector);
      tolerations = List.copyOf(tolerations);
      affinity = Map.copyOf(affinity);
    }
  }

  public record Autoscaling(boolean enabled, int minReplicas, int maxReplicas,
                            Optional<Integer> targetCpuUtilization, Optional<Integer> targetMemoryUtilization) {}

  /**
   * Scheduled pg_dump backups to their own volume claim; {@code timeZone} empty means the controller manager's zone.
   * {@code beforeChange}: a change that restarts the database waits for a fresh backup first.
   */
  /** {@code objectStore}: where dumps are uploaded, off the cluster; the backups claim is kept only with keepLocalCopy. */
  /** {@code keepDays}: a dump younger than that is kept even beyond {@code retention} (0: retention alone). */
  public record Backup(boolean enabled, String schedule, String timeZone, int retention, int keepDays, String storageSize,
                       String storageClass, Resources resources, boolean beforeChange, Optional<ObjectStore> objectStore) {
    /** Whether dumps are kept on the backups claim: always without an object store, else when asked to. */
    public boolean localCopy() {
      return objectStore.map(ObjectStore::keepLocalCopy).orElse(true);
    }
  }

  /** A key of a Secret in the environment's namespace. */
  public record SecretKey(String name, String key) {}

  /**
   * S3-compatible object storage, in CloudNativePG's words: {@code destinationPath} is {@code s3://bucket[/prefix]};
   * dumps go under {@code <prefix>/<environment>/}. Credentials only by Secret reference.
   */
  public record ObjectStore(String bucket, String prefix, Optional<String> endpointURL, Optional<String> region,
                            SecretKey accessKeyId, SecretKey secretAccessKey, Optional<SecretKey> endpointCA,
                            boolean keepLocalCopy, Image uploaderImage) {
    /** bucket/prefix/environment, as the uploader names the folder of one environment's dumps. */
    public String folder(String environment) {
      return bucket + "/" + (prefix.isEmpty() ? "" : prefix + "/") + environment;
    }
  }

  /**
   * Who runs the database: the controller's own StatefulSet, a server the team already runs, or a CloudNativePG
   * Cluster (replicas, failover, point-in-time recovery) that the controller renders and the operator runs.
   */
  public enum Engine {
    BUNDLED, EXTERNAL, CLOUDNATIVE_PG;

    /** As the values spell it. */
    public String key() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    public static Engine of(String key) {
      return valueOf(key.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    }
  }

  /**
   * A database the team already runs (managed or not). Its user, database and password Secret are {@link Auth}'s;
   * {@code sslMode} is libpq's, {@code caSecret} a Secret whose key {@code ca.crt} verifies the server.
   */
  public record External(String host, int port, Optional<String> sslMode, Optional<String> caSecret) {}

  /**
   * {@code allowMajorUpgrade}: the user read the README's upgrade procedure and lets a new major version start.
   * With the external engine, {@code image} is only the client tools' (pg_dump, pg_isready) and {@code external} is set.
   * {@code instances}: the CloudNativePG Cluster's (a primary and its replicas); 1 for the other engines.
   * {@code recoveredCluster}: not from git: the CloudNativePG Cluster a confirmed point-in-time restore made, which
   * is the environment's database from then on (see {@link #withRecoveredCluster}).
   */
  public record Postgres(Image image, Auth auth, Service service, Persistence persistence, Resources resources,
                         Probe startupProbe, Probe livenessProbe, Probe readinessProbe, List<EnvVar> env,
                         Map<String, String> podAnnotations, Scheduling scheduling, boolean allowMajorUpgrade,
                         Engine engine, Optional<External> external, int instances, Optional<String> recoveredCluster) {
    public Postgres {
      env = List.copyOf(env);
      podAnnotations = Map.copyOf(podAnnotations);
    }

    /** Whether the controller runs this database itself (its pod, Service, claim and Secret). */
    public boolean bundled() {
      return engine == Engine.BUNDLED;
    }

    /** Whether the database keeps its data beyond its pod: on a claim, or wherever another engine keeps it. */
    public boolean keepsData() {
      return bundled() ? persistence.enabled() : true;
    }

    /** The name of its CloudNativePG Cluster: {@code <release>-postgres}, or the Cluster a confirmed restore made. */
    public String clusterName(String release) {
      return recoveredCluster.orElse(release + "-postgres");
    }

    /** Whether CloudNativePG runs it: a Cluster of {@code instances}. */
    public boolean cloudnativePg() {
      return engine == Engine.CLOUDNATIVE_PG;
    }
  }

  /** {@code secrets} are environment variables kept in a Secret of their own (values may be sops-encrypted in git). */
  public record LangConnect(Image image, int replicas, Service service, Resources resources, Probe livenessProbe,
                            Probe readinessProbe, List<EnvVar> env, Map<String, String> secrets,
                            Map<String, String> podAnnotations, Autoscaling autoscaling, Scheduling scheduling) {
    public LangConnect {
      env = List.copyOf(env);
      secrets = Map.copyOf(new java.util.TreeMap<>(secrets));
      podAnnotations = Map.copyOf(podAnnotations);
    }
  }
}
