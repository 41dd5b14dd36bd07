package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.langconnect.gitops.values.EnvironmentValues;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The PostgreSQL + pgvector half of the stack: Secret, data claim, Service and a StatefulSet of one. A StatefulSet,
 * not a Deployment: it makes pod-0 again only once the old pod-0 is gone, so two postmasters never share the data
 * directory (a Deployment's ReplicaSet starts the replacement while the old pod still shuts down). With an external
 * database none of these is rendered: this model then only says where clients connect and how.
 */
final class PostgresModel {

  static final String PASSWORD_KEY = "postgres-password";
  static final String PGDATA = "/var/lib/postgresql/data/pgdata";
  static final String DATA_MOUNT = "/var/lib/postgresql/data";
  static final int CONTAINER_PORT = 5432;
  static final long UID = 999;
  static final String CA_VOLUME = Labels.DATABASE_CA_VOLUME;
  static final String CA_MOUNT = "/etc/postgres-ca";
  static final String CA_KEY = "ca.crt";

  private final EnvironmentValues values;
  private final EnvironmentValues.Postgres postgres;
  private final Names names;
  private final Optional<String> revision;

  PostgresModel(EnvironmentValues values, Optional<String> revision) {
    this.values = values;
    this.postgres = values.postgres();
    this.names = new Names(values.release());
    this.revision = revision;
  }

  /**
   * The Secret the stack's clients read the password from: the user's existingSecret, the one rendered here, or,
   * with CloudNativePG, the application user's Secret the operator makes.
   */
  String secretName() {
    return postgres.auth().existingSecret().orElse(postgres.cloudnativePg() ? clusterName() + "-app" : names.secret());
  }

  /** The CloudNativePG Cluster's name (see {@link EnvironmentValues.Postgres#clusterName}). */
  private String clusterName() {
    return postgres.clusterName(values.release());
  }

  /** The password's key in {@link #secretName()}: CloudNativePG's Secrets are basic-auth ({@code password}). */
  String passwordKey() {
    return postgres.cloudnativePg() ? "password" : PASSWORD_KEY;
  }

  /** Null when the user brings their own Secret (always with an external database). */
  Secret secret() {
    if (postgres.auth().existingSecret().isPresent() || !postgres.bundled()) return null;
    SecretBuilder secret = new SecretBuilder()
        .withMetadata(PodParts.metadata(names.secret(), values, Labels.POSTGRES, revision))
        .withType("Opaque");
    postgres.auth().password().ifPresentOrElse(
        password -> secret.withData(new TreeMap<>(Map.of(PASSWORD_KEY, base64(password)))),
        () -> secret.editMetadata().addToAnnotations(Labels.GENERATE_PASSWORD_ANNOTATION, PASSWORD_KEY).endMetadata());
    return secret.build();
  }

  /** The Secrets the database's clients read (password, CA): a rewrite of one rolls them (see {@link Labels#SECRETS_PREFIX}). */
  List<String> clientSecrets() {
    List<String> secrets = new ArrayList<>(List.of(secretName()));
    external().flatMap(EnvironmentValues.External::caSecret).ifPresent(secrets::add);
    return secrets;
  }

  String secretChecksum() {
    return Labels.secretsPlaceholder(clientSecrets());
  }

  private Optional<EnvironmentValues.External> external() {
    return postgres.external();
  }

  /** Where clients connect: the bundled database's Service, or the external server. */
  String host() {
    if (postgres.cloudnativePg()) return clusterName() + "-rw"; // the primary, wherever it is now
    return external().map(EnvironmentValues.External::host).orElse(names.postgres());
  }

  int port() {
    if (postgres.cloudnativePg()) return CONTAINER_PORT;
    return external().map(EnvironmentValues.External::port).orElse(postgres.service().port());
  }

  /** libpq's TLS settings for a client of an external server (LangConnect, pg_dump), read from the environment. */
  List<EnvVar> clientTlsEnv() {
    List<EnvVar> env = new ArrayList<>();
    external().flatMap(EnvironmentValues.External::sslMode).ifPresent(mode -> env.add(PodParts.literal("PGSSLMODE", mode)));
    external().flatMap(EnvironmentValues.External::caSecret)
        .ifPresent(ca -> env.add(PodParts.literal("PGSSLROOTCERT", CA_MOUNT + "/" + CA_KEY)));
    return env;
  }

  /** The volume of the server's CA, when there is one; clients mount it at {@link #CA_MOUNT}. */
  Optional<Volume> caVolume() {
    return external().flatMap(EnvironmentValues.External::caSecret).map(ca -> new VolumeBuilder().withName(CA_VOLUME)
        .withNewSecret().withSecretName(ca).withItems(new io.fabric8.kubernetes.api.model.KeyToPathBuilder()
            .withKey(CA_KEY).withPath(CA_KEY).build()).endSecret().build());
  }

  /** Mounts {@link #caVolume()} into a client container, when there is one. */
  void mountCa(ContainerBuilder container) {
    if (caVolume().isPresent()) {
      container.addNewVolumeMount().withName(CA_VOLUME).withMountPath(CA_MOUNT).withReadOnly(true).endVolumeMount();
    }
  }

  /**
   * Null unless the database is external: a container beside LangConnect that is ready only while the server
   * answers pg_isready, so the environment is Ready only when LangConnect is and its database answers.
   */
  Container externalProbe(long uid) {
    if (external().isEmpty()) return null;
    EnvironmentValues.Probe probe = new EnvironmentValues.Probe(true, "", 0, 10, 5, 1, 3);
    EnvironmentValues.Resources small = new EnvironmentValues.Resources(Map.of("memory", "32Mi"),
        Map.of("cpu", "5m", "memory", "16Mi"));
    return PodParts.container(Labels.DATABASE_PROBE_CONTAINER, postgres.image(), new ArrayList<>(clientTlsEnv()), small, uid)
        // Waits in the shell so that TERM ends it at once (a plain sleep as PID 1 ignores it).
        .withCommand("/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 5 & wait $!; done")
        .withReadinessProbe(pgIsReady(probe, postgres.auth().username(),
            "-h " + host() + " -p " + port() + " -d " + postgres.auth().database() + " "))
        .build();
  }

  /** Null unless persistence is enabled and the claim is the controller's to make (no existingClaim). */
  PersistentVolumeClaim dataClaim() {
    EnvironmentValues.Persistence persistence = postgres.persistence();
    if (!persistence.enabled() || persistence.existingClaim().isPresent()) return null;
    return new PersistentVolumeClaimBuilder()
        .withMetadata(PodParts.metadata(names.dataClaim(), values, Labels.POSTGRES, revision))
        .withNewSpec()
        .withAccessModes(persistence.accessMode())
        .withStorageClassName(persistence.storageClass().isEmpty() ? null : persistence.storageClass())
        .withNewResources().withRequests(Map.of("storage", new Quantity(persistence.size()))).endResources()
        .endSpec()
        .build();
  }

  /** Null unless the database is bundled. */
  Service service() {
    if (!postgres.bundled()) return null;
    return PodParts.service(names.postgres(), values, Labels.POSTGRES, "ClusterIP", "postgresql",
        postgres.service().port(), revision);
  }

  /**
   * Pods managed in parallel: with one replica that changes nothing of the one-pod rule (the name is the lock), and
   * a pod that never gets Ready does not block the commit that fixes it, as OrderedReady would (kubernetes#67250).
   * The data claim is mounted as a plain volume, not a volumeClaimTemplate, so an existing claim is kept as it is.
   */
  StatefulSet statefulSet() {
    if (!postgres.bundled()) return null;
    Volume data = postgres.persistence().enabled()
        ? new VolumeBuilder().withName("data").withNewPersistentVolumeClaim()
            .withClaimName(postgres.persistence().existingClaim().orElse(names.dataClaim()))
            .endPersistentVolumeClaim().build()
        : new VolumeBuilder().withName("data").withNewEmptyDir().endEmptyDir().build();
    return new StatefulSetBuilder()
        .withMetadata(PodParts.metadata(names.postgres(), values, Labels.POSTGRES, revision))
        .withNewSpec()
        .withReplicas(1)
        .withServiceName(names.postgres())
        .withPodManagementPolicy("Parallel")
        .withNewUpdateStrategy().withType("RollingUpdate").endUpdateStrategy()
        .withNewSelector().withMatchLabels(Labels.selector(values.release(), Labels.POSTGRES)).endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(PodParts.podLabels(values, Labels.POSTGRES))
        .withAnnotations(PodParts.podAnnotations(values, postgres.podAnnotations(), secretChecksum()))
        .endMetadata()
        .withNewSpec()
        .withAutomountServiceAccountToken(false)
        .withImagePullSecrets(PodParts.pullSecrets(values))
        .withSecurityContext(PodParts.podSecurity(UID))
        .withContainers(container())
        .withVolumes(data)
        .withNodeSelector(PodParts.nodeSelector(postgres.scheduling()))
        .withTolerations(PodParts.tolerations(postgres.scheduling()))
        .withAffinity(PodParts.affinity(postgres.scheduling()))
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  private Container container() {
    String user = postgres.auth().username();
    List<EnvVar> env = new ArrayList<>(List.of(
        PodParts.literal("POSTGRES_USER", user),
        PodParts.fromSecret("POSTGRES_PASSWORD", secretName(), PASSWORD_KEY),
        PodParts.literal("POSTGRES_DB", postgres.auth().database()),
        PodParts.literal("PGDATA", PGDATA)));
    env.addAll(PodParts.extraEnv(postgres.env()));
    ContainerBuilder container = PodParts.container("postgres", postgres.image(), "postgresql", CONTAINER_PORT, env,
            postgres.resources(), UID)
        .addNewVolumeMount().withName("data").withMountPath(DATA_MOUNT).endVolumeMount();
    // Readiness asks over TCP, as LangConnect connects: the image's first-start initdb runs a temporary server on
    // the Unix socket only, which a socket probe reports ready before the real server listens. Liveness keeps the
    // socket so a long first start is not killed.
    if (postgres.startupProbe().enabled()) container.withStartupProbe(pgIsReady(postgres.startupProbe(), user, ""));
    if (postgres.livenessProbe().enabled()) container.withLivenessProbe(pgIsReady(postgres.livenessProbe(), user, ""));
    if (postgres.readinessProbe().enabled()) {
      container.withReadinessProbe(pgIsReady(postgres.readinessProbe(), user, "-h 127.0.0.1 -p " + CONTAINER_PORT + " "));
    }
    return container.build();
  }

  /** The username is limited to safe characters by validation, so it can stand unquoted in the shell line. */
  private static io.fabric8.kubernetes.api.model.Probe pgIsReady(EnvironmentValues.Probe probe, String user, String where) {
    return PodParts.probe(probe, new ProbeBuilder()
        .withNewExec().withCommand("/bin/sh", "-c", "pg_isready " + where + "-U " + user).endExec());
  }

  static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
