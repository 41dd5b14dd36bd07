package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The database as CloudNativePG runs it: a {@code Cluster} (postgresql.cnpg.io/v1) of {@code postgres.instances},
 * its application database and owner made at bootstrap with the {@code vector} extension, and, with
 * {@code backup.objectStore}, the Cluster's own WAL archiving to that bucket plus a {@code ScheduledBackup} on
 * {@code backup.schedule}. The in-tree {@code barmanObjectStore} is used (deprecated since 1.26, still in 1.29,
 * removed in 1.30): the barman-cloud plugin needs cert-manager and an operator of its own. Null for other engines.
 */
public final class CloudnativePgModel {

  public static final String API_VERSION = "postgresql.cnpg.io/v1";
  static final int SMART_SHUTDOWN_SECONDS = 15;

  private final EnvironmentValues values;
  private final EnvironmentValues.Postgres postgres;
  private final Names names;
  private final Optional<String> revision;

  CloudnativePgModel(EnvironmentValues values, Optional<String> revision) {
    this.values = values;
    this.postgres = values.postgres();
    this.names = new Names(values.release());
    this.revision = revision;
  }

  /** The Cluster; its name is the bundled database's, so its Services are {@code <release>-postgres-rw/-ro/-r}. */
  GenericKubernetesResource cluster() {
    if (!postgres.cloudnativePg()) return null;
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("instances", postgres.instances());
    spec.put("imageName", postgres.image().reference());
    spec.put("imagePullPolicy", postgres.image().pullPolicy());
    // LangConnect keeps idle pooled connections, which a smart shutdown would wait for (180 s by default) while the
    // primary's pod is deleted or evicted: after this, the fast shutdown ends them (WAL still sent to the replicas
    // first) and LangConnect reconnects to the promoted replica.
    spec.put("smartShutdownTimeout", SMART_SHUTDOWN_SECONDS);
    if (!values.imagePullSecrets().isEmpty()) {
      spec.put("imagePullSecrets", values.imagePullSecrets().stream().map(name -> Map.of("name", name)).toList());
    }
    // The instances' pods carry the environment's labels, so its pods and health are found as the bundled one's.
    spec.put("inheritedMetadata", Map.of("labels", new TreeMap<>(Map.of(Labels.ENVIRONMENT, values.environment(),
        Labels.PART_OF, Labels.APP_NAME))));
    Map<String, Object> storage = new LinkedHashMap<>();
    storage.put("size", postgres.persistence().size());
    if (!postgres.persistence().storageClass().isEmpty()) storage.put("storageClass", postgres.persistence().storageClass());
    spec.put("storage", storage);
    if (!postgres.resources().isEmpty()) spec.put("resources", plain(PodParts.resources(postgres.resources())));
    affinity().ifPresent(affinity -> spec.put("affinity", affinity));
    Map<String, Object> initdb = new LinkedHashMap<>();
    initdb.put("database", postgres.auth().database());
    initdb.put("owner", postgres.auth().username());
    postgres.auth().existingSecret().ifPresent(secret -> initdb.put("secret", Map.of("name", secret)));
    initdb.put("postInitApplicationSQL", List.of("CREATE EXTENSION IF NOT EXISTS vector"));
    spec.put("bootstrap", Map.of("initdb", initdb));
    values.backup().objectStore().filter(store -> values.backup().enabled()).ifPresent(store -> {
      spec.put("backup", backup(store));
      spec.put("postgresql", Map.of("parameters", Map.of("archive_timeout", ARCHIVE_TIMEOUT)));
    });
    return resource("Cluster", postgres.clusterName(values.release()), spec);
  }

  /**
   * A Cluster recovered from the object store up to {@code targetTime} (RFC 3339): the environment's Cluster as
   * rendered, named {@code name}, bootstrapped from the base backups and WAL that {@code source} archived. Created
   * under the controller's field manager, so that once it is the environment's database the next apply replaces its
   * recovery bootstrap by the rendered one (bootstrap is read only when a Cluster is made).
   */
  public static GenericKubernetesResource recovery(EnvironmentValues values, String source, String name, String targetTime) {
    CloudnativePgModel model = new CloudnativePgModel(values.withRecoveredCluster(name), Optional.empty());
    GenericKubernetesResource cluster = model.cluster();
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) cluster.getAdditionalProperties().get("spec");
    Map<String, Object> recovery = new LinkedHashMap<>();
    recovery.put("source", "origin");
    recovery.put("database", values.postgres().auth().database());
    recovery.put("owner", values.postgres().auth().username());
    recovery.put("recoveryTarget", Map.of("targetTime", targetTime));
    spec.put("bootstrap", Map.of("recovery", recovery));
    Map<String, Object> origin = new LinkedHashMap<>(objectStore(values.backup().objectStore().orElseThrow(),
        values.environment()));
    origin.put("serverName", source);
    origin.remove("wal");
    spec.put("externalClusters", List.of(Map.of("name", "origin", "barmanObjectStore", origin)));
    return cluster;
  }

  /** With backups to the object store: a base backup on the schedule (the first at once), WAL archived between. */
  GenericKubernetesResource scheduledBackup() {
    if (!values.cloudnativePgArchives()) return null;
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("schedule", sixFields(values.backup().schedule()));
    spec.put("immediate", true);
    spec.put("backupOwnerReference", "self");
    spec.put("method", "barmanObjectStore");
    spec.put("cluster", Map.of("name", postgres.clusterName(values.release())));
    return resource("ScheduledBackup", postgres.clusterName(values.release()), spec);
  }

  /**
   * Where the Cluster archives: {@code s3://bucket/prefix/<environment>}, the folder of the environment's dumps; the
   * operator adds {@code <cluster>/base} and {@code <cluster>/wals} under it.
   */
  static Map<String, Object> objectStore(EnvironmentValues.ObjectStore store, String environment) {
    Map<String, Object> barman = new LinkedHashMap<>();
    barman.put("destinationPath", "s3://" + store.folder(environment));
    store.endpointURL().ifPresent(url -> barman.put("endpointURL", url));
    store.endpointCA().ifPresent(ca -> barman.put("endpointCA", Map.of("name", ca.name(), "key", ca.key())));
    barman.put("s3Credentials", Map.of(
        "accessKeyId", Map.of("name", store.accessKeyId().name(), "key", store.accessKeyId().key()),
        "secretAccessKey", Map.of("name", store.secretAccessKey().name(), "key", store.secretAccessKey().key())));
    barman.put("wal", Map.of("compression", "gzip"));
    return barman;
  }

  /**
   * A WAL segment is archived at the latest a minute after its first write (CloudNativePG's default is five): the
   * recovery point of a quiet database, and how long a recovered Cluster waits for its first segment to be archived.
   */
  static final String ARCHIVE_TIMEOUT = "60s";

  private Map<String, Object> backup(EnvironmentValues.ObjectStore store) {
    Map<String, Object> backup = new LinkedHashMap<>();
    backup.put("barmanObjectStore", objectStore(store, values.environment()));
    // A recovery window in days, as CloudNativePG counts it: keepDays, else a week.
    int days = values.backup().keepDays() > 0 ? values.backup().keepDays() : 7;
    backup.put("retentionPolicy", days + "d");
    return backup;
  }

  /** Placement in CloudNativePG's own shape: node selector and tolerations, node affinity, extra pod (anti-)affinity. */
  private Optional<Map<String, Object>> affinity() {
    EnvironmentValues.Scheduling scheduling = postgres.scheduling();
    Map<String, Object> affinity = new LinkedHashMap<>();
    if (!scheduling.nodeSelector().isEmpty()) affinity.put("nodeSelector", new TreeMap<>(scheduling.nodeSelector()));
    if (!scheduling.tolerations().isEmpty()) affinity.put("tolerations", scheduling.tolerations());
    Object nodeAffinity = scheduling.affinity().get("nodeAffinity");
    if (nodeAffinity != null) affinity.put("nodeAffinity", nodeAffinity);
    Object podAffinity = scheduling.affinity().get("podAffinity");
    if (podAffinity != null) affinity.put("additionalPodAffinity", podAffinity);
    Object podAntiAffinity = scheduling.affinity().get("podAntiAffinity");
    if (podAntiAffinity != null) affinity.put("additionalPodAntiAffinity", podAntiAffinity);
    return affinity.isEmpty() ? Optional.empty() : Optional.of(affinity);
  }

  /** CloudNativePG's schedules have a seconds field first; a macro (@daily) is read as it is. */
  static String sixFields(String cron) {
    return cron.startsWith("@") ? cron : "0 " + cron;
  }

  private GenericKubernetesResource resource(String kind, String name, Map<String, Object> spec) {
    GenericKubernetesResource resource = new GenericKubernetesResourceBuilder()
        .withApiVersion(API_VERSION).withKind(kind)
        .withMetadata(PodParts.metadata(name, values, Labels.POSTGRES, revision))
        .build();
    resource.setAdditionalProperty("spec", spec);
    return resource;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> plain(Object model) {
    return new io.fabric8.kubernetes.client.utils.KubernetesSerialization().convertValue(model, Map.class);
  }
}
