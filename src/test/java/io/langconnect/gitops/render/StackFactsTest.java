package io.langconnect.gitops.render;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.langconnect.gitops.values.EnvironmentValues;
import io.langconnect.gitops.values.ValuesFixture;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Every fact of the stack table in DESIGN.md, asserted on the rendered objects. */
class StackFactsTest {

  private static final String STAGING = """
      langconnect:
        image:
          repository: registry.example.com/langconnect
          tag: "1.2.3"
        env:
          ALLOW_ORIGINS: '["*"]'
      postgres:
        auth:
          username: rag
          password: s3cret-staging
          database: ragdb
      """;

  private static List<HasMetadata> render(String yaml) {
    EnvironmentValues values = ValuesFixture.folder().env("staging", yaml).valid("staging");
    return StackRenderer.render(values, Optional.of("0123abc"));
  }

  /** The pod template of LangConnect's Deployment or the database's StatefulSet. */
  private static PodTemplateSpec template(List<HasMetadata> objects, String name) {
    return name.equals("langconnect-postgres") ? only(objects, StatefulSet.class, name).getSpec().getTemplate()
        : only(objects, Deployment.class, name).getSpec().getTemplate();
  }

  private static <T extends HasMetadata> T only(List<HasMetadata> objects, Class<T> kind, String name) {
    return objects.stream().filter(kind::isInstance).map(kind::cast)
        .filter(o -> o.getMetadata().getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind.getSimpleName() + " " + name + " in " + objects));
  }

  private static Map<String, EnvVar> env(Container container) {
    return container.getEnv().stream().collect(java.util.stream.Collectors.toMap(EnvVar::getName, e -> e));
  }

  @Test
  void secretsBecomeLangConnectsEnvironmentThroughASecretOfTheirOwn() {
    String withSecrets = STAGING + "secrets:\n  OPENAI_API_KEY: sk-one\n  SUPABASE_KEY: sb-key\n";
    List<HasMetadata> objects = render(withSecrets);
    Secret secret = only(objects, Secret.class, "langconnect-langconnect");
    assertThat(secret.getData()).containsOnlyKeys("OPENAI_API_KEY", "SUPABASE_KEY");
    assertThat(new String(java.util.Base64.getDecoder().decode(secret.getData().get("OPENAI_API_KEY")))).isEqualTo("sk-one");
    Container app = only(objects, Deployment.class, "langconnect-langconnect").getSpec().getTemplate().getSpec()
        .getContainers().get(0);
    assertThat(env(app).get("OPENAI_API_KEY").getValueFrom().getSecretKeyRef().getName())
        .isEqualTo("langconnect-langconnect");
    assertThat(env(app).get("OPENAI_API_KEY").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("OPENAI_API_KEY");

    // LangConnect's pods read both Secrets, so a rewrite of either rolls them (the applier hashes their versions).
    assertThat(checksum(objects)).isEqualTo("secrets:langconnect-langconnect,langconnect-postgres");
    assertThat(checksum(render(STAGING))).isEqualTo("secrets:langconnect-postgres");
    assertThat(render(STAGING)).noneMatch(o -> o instanceof Secret && o.getMetadata().getName().equals("langconnect-langconnect"));
  }

  private static String checksum(List<HasMetadata> objects) {
    return only(objects, Deployment.class, "langconnect-langconnect").getSpec().getTemplate().getMetadata()
        .getAnnotations().get("langconnect-gitops.io/secret-checksum");
  }

  @Test
  void postgresRunsAsAStatefulSetOfOneWithTheReferenceChartsPod() {
    StatefulSet postgres = only(render(STAGING), StatefulSet.class, "langconnect-postgres");
    PodSpec pod = postgres.getSpec().getTemplate().getSpec();
    Container db = pod.getContainers().get(0);

    assertThat(postgres.getMetadata().getNamespace()).isEqualTo("langconnect-staging");
    assertThat(postgres.getSpec().getReplicas()).isEqualTo(1);
    // One pod at a time: pod-0 is made again only once the old pod-0 is gone; a broken pod never blocks its fix.
    assertThat(postgres.getSpec().getServiceName()).isEqualTo("langconnect-postgres");
    assertThat(postgres.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
    assertThat(postgres.getSpec().getUpdateStrategy().getType()).isEqualTo("RollingUpdate");
    assertThat(postgres.getSpec().getVolumeClaimTemplates()).isEmpty();
    assertThat(db.getImage()).isEqualTo("pgvector/pgvector:pg16");
    assertThat(db.getPorts()).singleElement().satisfies(p -> assertThat(p.getContainerPort()).isEqualTo(5432));

    Map<String, EnvVar> env = env(db);
    assertThat(env.get("POSTGRES_USER").getValue()).isEqualTo("rag");
    assertThat(env.get("POSTGRES_DB").getValue()).isEqualTo("ragdb");
    assertThat(env.get("PGDATA").getValue()).isEqualTo("/var/lib/postgresql/data/pgdata");
    assertThat(env.get("POSTGRES_PASSWORD").getValue()).isNull();
    assertThat(env.get("POSTGRES_PASSWORD").getValueFrom().getSecretKeyRef().getName()).isEqualTo("langconnect-postgres");
    assertThat(env.get("POSTGRES_PASSWORD").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("postgres-password");

    assertProbe(db.getLivenessProbe(), 30, 10, 5, 6);
    // Liveness waits for the server's first answer: crash recovery may replay WAL for long, and is not killed.
    assertThat(db.getStartupProbe().getInitialDelaySeconds()).as("0 is left out, as the API server returns it").isNull();
    assertThat(db.getStartupProbe().getPeriodSeconds() * db.getStartupProbe().getFailureThreshold()).isEqualTo(3600);
    assertThat(db.getStartupProbe().getExec().getCommand()).containsExactly("/bin/sh", "-c", "pg_isready -U rag");
    assertProbe(db.getReadinessProbe(), 5, 5, 3, 3);
    assertThat(db.getLivenessProbe().getExec().getCommand()).containsExactly("/bin/sh", "-c", "pg_isready -U rag");
    assertThat(db.getReadinessProbe().getExec().getCommand())
        .containsExactly("/bin/sh", "-c", "pg_isready -h 127.0.0.1 -p 5432 -U rag");

    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(999L);
    assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(999L);
    assertThat(db.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(db.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");

    assertThat(db.getVolumeMounts()).singleElement()
        .satisfies(m -> assertThat(m.getMountPath()).isEqualTo("/var/lib/postgresql/data"));
    assertThat(pod.getVolumes()).singleElement().satisfies(v -> {
      assertThat(v.getEmptyDir()).isNotNull();
      assertThat(v.getPersistentVolumeClaim()).isNull();
    });
  }

  private static void assertProbe(Probe probe, int initialDelay, int period, int timeout, int failureThreshold) {
    assertThat(probe.getInitialDelaySeconds()).isEqualTo(initialDelay);
    assertThat(probe.getPeriodSeconds()).isEqualTo(period);
    assertThat(probe.getTimeoutSeconds()).isEqualTo(timeout);
    assertThat(probe.getFailureThreshold()).isEqualTo(failureThreshold);
  }

  @Test
  void postgresServiceIsClusterIpOn5432AndSelectsOnlyThePostgresPod() {
    List<HasMetadata> objects = render(STAGING);
    Service service = only(objects, Service.class, "langconnect-postgres");
    StatefulSet postgres = only(objects, StatefulSet.class, "langconnect-postgres");
    Deployment langconnect = only(objects, Deployment.class, "langconnect-langconnect");

    assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> assertThat(p.getPort()).isEqualTo(5432));
    Map<String, String> selector = service.getSpec().getSelector();
    assertThat(postgres.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(selector);
    assertThat(langconnect.getSpec().getTemplate().getMetadata().getLabels()).doesNotContainEntry(
        Labels.COMPONENT, selector.get(Labels.COMPONENT));
  }

  @Test
  void secretHoldsThePasswordAndBothDeploymentsReferenceIt() {
    List<HasMetadata> objects = render(STAGING);
    Secret secret = only(objects, Secret.class, "langconnect-postgres");
    String password = new String(Base64.getDecoder().decode(secret.getData().get("postgres-password")), StandardCharsets.UTF_8);
    assertThat(password).isEqualTo("s3cret-staging");

    for (String name : List.of("langconnect-postgres", "langconnect-langconnect")) {
      Container container = template(objects, name).getSpec().getContainers().get(0);
      assertThat(env(container).get("POSTGRES_PASSWORD").getValueFrom().getSecretKeyRef().getName())
          .isEqualTo(secret.getMetadata().getName());
    }
  }

  @Test
  void langconnectDeploymentPointsAtTheDatabaseAndProbesHealth() {
    Deployment langconnect = only(render(STAGING), Deployment.class, "langconnect-langconnect");
    PodSpec pod = langconnect.getSpec().getTemplate().getSpec();
    Container app = pod.getContainers().get(0);
    Map<String, EnvVar> env = env(app);

    assertThat(app.getImage()).isEqualTo("registry.example.com/langconnect:1.2.3");
    assertThat(app.getPorts()).singleElement().satisfies(p -> assertThat(p.getContainerPort()).isEqualTo(8080));
    assertThat(env.get("POSTGRES_HOST").getValue()).isEqualTo("langconnect-postgres");
    assertThat(env.get("POSTGRES_PORT").getValue()).isEqualTo("5432");
    assertThat(env.get("POSTGRES_USER").getValue()).isEqualTo("rag");
    assertThat(env.get("POSTGRES_DB").getValue()).isEqualTo("ragdb");
    assertThat(env.get("ALLOW_ORIGINS").getValue()).isEqualTo("[\"*\"]");
    assertThat(app.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health");
    assertThat(app.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health");
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(app.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(app.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
  }

  @Test
  void langconnectServiceIsClusterIpOn8080() {
    Service service = only(render(STAGING), Service.class, "langconnect-langconnect");
    assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> assertThat(p.getPort()).isEqualTo(8080));
  }

  @Test
  void persistentVolumeClaimOnlyWhenPersistenceIsEnabled() {
    assertThat(render(STAGING)).noneMatch(PersistentVolumeClaim.class::isInstance);

    List<HasMetadata> persistent = render(STAGING + """
          persistence:
            enabled: true
            size: 20Gi
            storageClass: fast-ssd
        """);
    PersistentVolumeClaim claim = only(persistent, PersistentVolumeClaim.class, "langconnect-postgres");
    assertThat(claim.getSpec().getResources().getRequests().get("storage").toString()).isEqualTo("20Gi");
    assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(claim.getSpec().getStorageClassName()).isEqualTo("fast-ssd");
    PodSpec pod = template(persistent, "langconnect-postgres").getSpec();
    assertThat(pod.getVolumes()).singleElement().satisfies(v ->
        assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("langconnect-postgres"));
  }

  @Test
  void existingClaimIsUsedAndNoClaimIsMade() {
    List<HasMetadata> objects = render(STAGING + "  persistence:\n    enabled: true\n    existingClaim: old-data\n");
    assertThat(objects).filteredOn(PersistentVolumeClaim.class::isInstance)
        .extracting(o -> o.getMetadata().getName()).containsExactly("langconnect-postgres-backups");
    PodSpec pod = template(objects, "langconnect-postgres").getSpec();
    assertThat(pod.getVolumes()).singleElement().satisfies(v ->
        assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("old-data"));
  }

  @Test
  void emptyStorageClassMeansTheClusterDefault() {
    PersistentVolumeClaim claim = only(render(STAGING + "  persistence:\n    enabled: true\n    storageClass: \"\"\n"),
        PersistentVolumeClaim.class, "langconnect-postgres");
    assertThat(claim.getSpec().getStorageClassName()).isNull();
  }

  @Test
  void existingSecretRendersNoSecretAndBothDeploymentsUseIt() {
    List<HasMetadata> objects = render("""
        langconnect:
          image:
            repository: lc
        postgres:
          auth:
            existingSecret: team-db-credentials
        """);
    assertThat(objects).noneMatch(Secret.class::isInstance);
    for (String name : List.of("langconnect-postgres", "langconnect-langconnect")) {
      Container container = template(objects, name).getSpec().getContainers().get(0);
      assertThat(env(container).get("POSTGRES_PASSWORD").getValueFrom().getSecretKeyRef().getName())
          .isEqualTo("team-db-credentials");
    }
  }

  @Test
  void everyObjectCarriesTheRecommendedLabelsAndTheRevision() {
    for (HasMetadata object : render(STAGING)) {
      assertThat(object.getMetadata().getLabels())
          .containsEntry(Labels.NAME, "langconnect")
          .containsEntry(Labels.INSTANCE, "langconnect")
          .containsEntry(Labels.MANAGED_BY, "langconnect-gitops")
          .containsKey(Labels.COMPONENT);
      assertThat(object.getMetadata().getAnnotations()).containsEntry(Labels.REVISION_ANNOTATION, "0123abc");
    }
  }

  @Test
  void bothWorkloadsNameTheSecretTheyReadAndNothingOfThePassword() {
    // The applier turns the names into a hash of the Secrets' versions (SyncIT: a rotation rolls both).
    assertThat(checksum(render(STAGING), "langconnect-postgres")).isEqualTo("secrets:langconnect-postgres");
    assertThat(checksum(render(STAGING), "langconnect-langconnect")).isEqualTo("secrets:langconnect-postgres");
    assertThat(checksum(render(STAGING.replace("s3cret-staging", "rotated-password")), "langconnect-postgres"))
        .isEqualTo("secrets:langconnect-postgres");
  }

  private static String checksum(List<HasMetadata> objects, String deployment) {
    return template(objects, deployment).getMetadata().getAnnotations()
        .get(Labels.SECRET_CHECKSUM_ANNOTATION);
  }

  @Test
  void missingPasswordAsksTheApplierToGenerateOne() {
    Secret secret = only(render("langconnect:\n  image:\n    repository: lc\n"), Secret.class, "langconnect-postgres");
    assertThat(secret.getData()).isNullOrEmpty();
    assertThat(secret.getMetadata().getAnnotations()).containsEntry(Labels.GENERATE_PASSWORD_ANNOTATION, "postgres-password");
  }

  @Test
  void autoscalingRendersAnAutoscalerAndLeavesReplicasToIt() {
    List<HasMetadata> objects = render(STAGING.replace("  env:\n", "  autoscaling:\n    enabled: true\n"
        + "    minReplicas: 2\n    maxReplicas: 5\n  env:\n"));
    HorizontalPodAutoscaler hpa = only(objects, HorizontalPodAutoscaler.class, "langconnect-langconnect");
    assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(2);
    assertThat(hpa.getSpec().getMaxReplicas()).isEqualTo(5);
    assertThat(only(objects, Deployment.class, "langconnect-langconnect").getSpec().getReplicas()).isNull();
  }

  @Test
  void objectsComeInApplyOrder() {
    List<String> order = render(STAGING + "  persistence:\n    enabled: true\n").stream()
        .map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
    assertThat(order).containsExactly(
        "Secret/langconnect-postgres",
        "PersistentVolumeClaim/langconnect-postgres",
        "PersistentVolumeClaim/langconnect-postgres-backups",
        "Service/langconnect-postgres",
        "StatefulSet/langconnect-postgres",
        "Deployment/langconnect-langconnect",
        "Service/langconnect-langconnect",
        "CronJob/langconnect-postgres-backup");
  }

  @Test
  void backupsAreOnWherePersistenceIsAndScheduledSafely() {
    assertThat(render(STAGING)).noneMatch(CronJob.class::isInstance);
    List<HasMetadata> objects = render(STAGING + """
          persistence:
            enabled: true
        backup:
          schedule: "@daily"
          timeZone: Europe/Berlin
          retention: 3
          storage:
            size: 50Gi
        """);
    CronJob cron = only(objects, CronJob.class, "langconnect-postgres-backup");
    assertThat(cron.getSpec().getSchedule()).isEqualTo("@daily");
    assertThat(cron.getSpec().getTimeZone()).isEqualTo("Europe/Berlin");
    assertThat(cron.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");
    assertThat(cron.getSpec().getStartingDeadlineSeconds()).isPositive();
    assertThat(cron.getSpec().getJobTemplate().getSpec().getBackoffLimit()).isNotNull();
    assertThat(cron.getSpec().getJobTemplate().getSpec().getActiveDeadlineSeconds()).isPositive();
    PodSpec pod = cron.getSpec().getJobTemplate().getSpec().getTemplate().getSpec();
    Container job = pod.getContainers().get(0);
    assertThat(job.getImage()).isEqualTo("pgvector/pgvector:pg16");
    assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(999L);
    assertThat(job.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(env(job).get("PGPASSWORD").getValueFrom().getSecretKeyRef().getName()).isEqualTo("langconnect-postgres");
    assertThat(env(job).get("RETENTION").getValue()).isEqualTo("3");
    assertThat(pod.getVolumes()).singleElement().satisfies(v ->
        assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("langconnect-postgres-backups"));
    assertThat(only(objects, PersistentVolumeClaim.class, "langconnect-postgres-backups").getSpec().getResources()
        .getRequests().get("storage").toString()).isEqualTo("50Gi");
  }

  @Test
  void everyKindARenderHoldsIsOneTheControllerManages() {
    List<HasMetadata> everything = render("""
        langconnect:
          image: {repository: registry.example.com/langconnect}
          autoscaling: {enabled: true}
        postgres:
          persistence: {enabled: true}
        """);
    java.util.Set<String> kinds = new java.util.HashSet<>();
    everything.forEach(o -> kinds.add(o.getApiVersion() + "/" + o.getKind()));
    render(CLOUDNATIVE_PG).forEach(o -> kinds.add(o.getApiVersion() + "/" + o.getKind()));
    assertThat(kinds).isEqualTo(StackRenderer.KINDS);
  }

  @Test
  void withAnObjectStoreTheDumpIsUploadedOffTheClusterWithCredentialsOnlyBySecretReference() {
    List<HasMetadata> objects = render(STAGING + """
          persistence:
            enabled: true
        backup:
          retention: 4
          objectStore:
            destinationPath: s3://rag-backups/team-a
            endpointURL: https://s3.example.internal:9000
            region: eu-west-1
            s3Credentials:
              accessKeyId: {name: backup-s3, key: ACCESS_KEY_ID}
              secretAccessKey: {name: backup-s3, key: ACCESS_SECRET_KEY}
            endpointCA: {name: backup-s3-ca, key: ca.crt}
        """);
    assertThat(objects).as("no backups claim without keepLocalCopy").noneMatch(o -> o instanceof PersistentVolumeClaim
        && o.getMetadata().getName().equals("langconnect-postgres-backups"));
    PodSpec pod = only(objects, CronJob.class, "langconnect-postgres-backup").getSpec().getJobTemplate().getSpec()
        .getTemplate().getSpec();
    // The dump first (and verified), in the database's image; then the upload, in the uploader's.
    assertThat(pod.getInitContainers()).singleElement().satisfies(dump -> {
      assertThat(dump.getName()).isEqualTo("dump");
      assertThat(dump.getImage()).isEqualTo("pgvector/pgvector:pg16");
      assertThat(dump.getCommand().get(2)).contains("pg_restore --list");
    });
    Container upload = pod.getContainers().get(0);
    assertThat(upload.getName()).isEqualTo("upload");
    assertThat(upload.getImage()).isEqualTo("rclone/rclone:1.68.2");
    Map<String, EnvVar> env = env(upload);
    assertThat(env.get("DESTINATION").getValue()).isEqualTo("rag-backups/team-a/staging");
    assertThat(env.get("RETENTION").getValue()).isEqualTo("4");
    assertThat(env.get("RCLONE_CONFIG_STORE_ENDPOINT").getValue()).isEqualTo("https://s3.example.internal:9000");
    assertThat(env.get("RCLONE_CONFIG_STORE_REGION").getValue()).isEqualTo("eu-west-1");
    assertThat(env.get("RCLONE_CONFIG_STORE_ACCESS_KEY_ID").getValue()).isNull();
    assertThat(env.get("RCLONE_CONFIG_STORE_ACCESS_KEY_ID").getValueFrom().getSecretKeyRef().getName()).isEqualTo("backup-s3");
    assertThat(env.get("RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY").getValueFrom().getSecretKeyRef().getKey())
        .isEqualTo("ACCESS_SECRET_KEY");
    assertThat(env.get("RCLONE_CA_CERT").getValue()).isEqualTo("/etc/backup-store-ca/ca.crt");
    // Checked after the upload, and only this environment's folder and dumps are rotated.
    assertThat(upload.getCommand().get(2)).contains("rclone check --one-way").contains("\"$store/$old\"")
        .containsSubsequence("rclone copyto", "rclone check", "deletefile");
    assertThat(pod.getVolumes()).extracting(v -> v.getName()).containsExactlyInAnyOrder("backups", "scratch", "store-ca");
    assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("backups"))
        .singleElement().satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());
  }

  private static final String EXTERNAL = """
      langconnect:
        image:
          repository: registry.example.com/langconnect
      postgres:
        engine: external
        external:
          host: rag.db.example.com
          port: 6432
          database: ragdb
          username: rag
          existingSecret: rag-db
          sslMode: verify-full
          caSecret: rag-db-ca
      """;

  @Test
  void anExternalDatabaseRendersNoDatabaseOfItsOwnAndItsClientsConnectThereOverVerifiedTls() {
    List<HasMetadata> objects = render(EXTERNAL);
    assertThat(objects).extracting(o -> o.getKind() + " " + o.getMetadata().getName()).containsExactly(
        "PersistentVolumeClaim langconnect-postgres-backups", "Deployment langconnect-langconnect",
        "Service langconnect-langconnect", "CronJob langconnect-postgres-backup");
    Deployment langconnect = only(objects, Deployment.class, "langconnect-langconnect");
    assertThat(langconnect.getMetadata().getAnnotations()).containsEntry(Labels.ENGINE_ANNOTATION, "external");
    PodSpec pod = langconnect.getSpec().getTemplate().getSpec();
    Map<String, EnvVar> env = env(pod.getContainers().get(0));
    assertThat(env.get("POSTGRES_HOST").getValue()).isEqualTo("rag.db.example.com");
    assertThat(env.get("POSTGRES_PORT").getValue()).isEqualTo("6432");
    assertThat(env.get("POSTGRES_USER").getValue()).isEqualTo("rag");
    assertThat(env.get("POSTGRES_DB").getValue()).isEqualTo("ragdb");
    assertThat(env.get("POSTGRES_PASSWORD").getValueFrom().getSecretKeyRef().getName()).isEqualTo("rag-db");
    assertThat(env.get("PGSSLMODE").getValue()).isEqualTo("verify-full");
    assertThat(env.get("PGSSLROOTCERT").getValue()).isEqualTo("/etc/postgres-ca/ca.crt");
    assertThat(pod.getContainers().get(0).getVolumeMounts()).extracting(m -> m.getMountPath()).containsExactly("/etc/postgres-ca");
    assertThat(pod.getVolumes()).singleElement().satisfies(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("rag-db-ca"));
    Container probe = pod.getContainers().get(1);
    assertThat(probe.getName()).isEqualTo("database-probe");
    assertThat(probe.getReadinessProbe().getExec().getCommand()).containsExactly("/bin/sh", "-c",
        "pg_isready -h rag.db.example.com -p 6432 -d ragdb -U rag");
    assertThat(langconnect.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry(Labels.SECRET_CHECKSUM_ANNOTATION, "secrets:rag-db,rag-db-ca");

    PodSpec backup = only(objects, CronJob.class, "langconnect-postgres-backup").getSpec().getJobTemplate().getSpec()
        .getTemplate().getSpec();
    Map<String, EnvVar> dump = env(backup.getContainers().get(0));
    assertThat(dump.get("PGHOST").getValue()).isEqualTo("rag.db.example.com");
    assertThat(dump.get("PGPORT").getValue()).isEqualTo("6432");
    assertThat(dump.get("PGSSLMODE").getValue()).isEqualTo("verify-full");
    assertThat(dump.get("PGPASSWORD").getValueFrom().getSecretKeyRef().getName()).isEqualTo("rag-db");
    assertThat(backup.getVolumes()).extracting(v -> v.getName()).containsExactly("backups", "postgres-ca");
  }

  private static final String CLOUDNATIVE_PG = """
      langconnect:
        image:
          repository: registry.example.com/langconnect
      postgres:
        engine: cloudnative-pg
        instances: 3
        image: {repository: ghcr.io/cloudnative-pg/postgresql, tag: "17.6"}
        persistence: {size: 20Gi, storageClass: fast}
        auth: {username: rag, database: ragdb}
        tolerations:
          - {key: dedicated, operator: Exists, effect: NoSchedule}
      backup:
        schedule: "30 2 * * *"
        keepDays: 14
        objectStore:
          destinationPath: s3://backups/rag
          endpointURL: http://s3.example.com
          s3Credentials:
            accessKeyId: {name: s3, key: id}
            secretAccessKey: {name: s3, key: secret}
      """;

  @Test
  @SuppressWarnings("unchecked")
  void cloudnativePgRendersAClusterItsScheduledBackupAndLangConnectOnTheCurrentPrimary() {
    List<HasMetadata> objects = render(CLOUDNATIVE_PG);
    assertThat(objects).extracting(o -> o.getKind() + " " + o.getMetadata().getName()).containsExactly(
        "Cluster langconnect-postgres", "ScheduledBackup langconnect-postgres", "Deployment langconnect-langconnect",
        "Service langconnect-langconnect");
    var cluster = (io.fabric8.kubernetes.api.model.GenericKubernetesResource) objects.get(0);
    assertThat(cluster.getApiVersion()).isEqualTo("postgresql.cnpg.io/v1");
    Map<String, Object> spec = (Map<String, Object>) cluster.getAdditionalProperties().get("spec");
    assertThat(spec).containsEntry("instances", 3).containsEntry("imageName", "ghcr.io/cloudnative-pg/postgresql:17.6")
        .containsEntry("storage", Map.of("size", "20Gi", "storageClass", "fast"));
    assertThat(spec.get("bootstrap")).isEqualTo(Map.of("initdb", Map.of("database", "ragdb", "owner", "rag",
        "postInitApplicationSQL", List.of("CREATE EXTENSION IF NOT EXISTS vector"))));
    assertThat((Map<String, Object>) spec.get("affinity")).containsKey("tolerations");
    Map<String, Object> backup = (Map<String, Object>) spec.get("backup");
    assertThat(backup).containsEntry("retentionPolicy", "14d");
    assertThat((Map<String, Object>) backup.get("barmanObjectStore"))
        .containsEntry("destinationPath", "s3://backups/rag/staging")
        .containsEntry("endpointURL", "http://s3.example.com");
    var scheduled = (io.fabric8.kubernetes.api.model.GenericKubernetesResource) objects.get(1);
    assertThat((Map<String, Object>) scheduled.getAdditionalProperties().get("spec")).containsEntry("schedule", "0 30 2 * * *")
        .containsEntry("method", "barmanObjectStore").containsEntry("immediate", true)
        .containsEntry("cluster", Map.of("name", "langconnect-postgres"));

    Deployment langconnect = only(objects, Deployment.class, "langconnect-langconnect");
    assertThat(langconnect.getMetadata().getAnnotations()).containsEntry(Labels.ENGINE_ANNOTATION, "cloudnative-pg");
    Map<String, EnvVar> env = env(langconnect.getSpec().getTemplate().getSpec().getContainers().get(0));
    assertThat(env.get("POSTGRES_HOST").getValue()).isEqualTo("langconnect-postgres-rw");
    assertThat(env.get("POSTGRES_USER").getValue()).isEqualTo("rag");
    assertThat(env.get("POSTGRES_PASSWORD").getValueFrom().getSecretKeyRef().getName()).isEqualTo("langconnect-postgres-app");
    assertThat(env.get("POSTGRES_PASSWORD").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("password");
    assertThat(langconnect.getSpec().getTemplate().getSpec().getContainers()).hasSize(1);

    // Without an object store, CloudNativePG takes no backups: the pg_dump CronJob does, against the primary.
    List<HasMetadata> dumped = render(CLOUDNATIVE_PG.substring(0, CLOUDNATIVE_PG.indexOf("  keepDays")));
    assertThat(dumped).extracting(HasMetadata::getKind).containsExactly("PersistentVolumeClaim", "Cluster", "Deployment",
        "Service", "CronJob");
    Map<String, EnvVar> dump = env(only(dumped, CronJob.class, "langconnect-postgres-backup").getSpec().getJobTemplate()
        .getSpec().getTemplate().getSpec().getContainers().get(0));
    assertThat(dump.get("PGHOST").getValue()).isEqualTo("langconnect-postgres-rw");
    assertThat(dump.get("PGPASSWORD").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("password");
  }

  @Test
  @SuppressWarnings("unchecked")
  void aPointInTimeRecoveryIsTheEnvironmentsClusterBootstrappedFromWhatItsSourceArchivedAndOnceConfirmedItsDatabase() {
    EnvironmentValues values = ValuesFixture.folder().env("staging", CLOUDNATIVE_PG).valid("staging");
    var recovery = CloudnativePgModel.recovery(values, "langconnect-postgres", "langconnect-postgres-pitr-20261206101500",
        "2026-12-06T10:15:00Z");
    assertThat(recovery.getMetadata().getName()).isEqualTo("langconnect-postgres-pitr-20261206101500");
    Map<String, Object> spec = (Map<String, Object>) recovery.getAdditionalProperties().get("spec");
    assertThat(spec).containsEntry("instances", 3).containsEntry("bootstrap", Map.of("recovery", Map.of(
        "source", "origin", "database", "ragdb", "owner", "rag",
        "recoveryTarget", Map.of("targetTime", "2026-12-06T10:15:00Z"))));
    Map<String, Object> origin = (Map<String, Object>) ((List<Map<String, Object>>) spec.get("externalClusters")).get(0)
        .get("barmanObjectStore");
    assertThat(origin).containsEntry("serverName", "langconnect-postgres")
        .containsEntry("destinationPath", "s3://backups/rag/staging").doesNotContainKey("wal");
    assertThat((Map<String, Object>) ((Map<String, Object>) spec.get("backup")).get("barmanObjectStore"))
        .as("it archives beside its source, under its own name").doesNotContainKey("serverName");

    List<HasMetadata> confirmed = StackRenderer.render(values.withRecoveredCluster("langconnect-postgres-pitr-20261206101500"),
        Optional.empty());
    assertThat(confirmed).extracting(o -> o.getKind() + " " + o.getMetadata().getName()).contains(
        "Cluster langconnect-postgres-pitr-20261206101500", "ScheduledBackup langconnect-postgres-pitr-20261206101500");
    Map<String, EnvVar> env = env(only(confirmed, Deployment.class, "langconnect-langconnect").getSpec().getTemplate()
        .getSpec().getContainers().get(0));
    assertThat(env.get("POSTGRES_HOST").getValue()).isEqualTo("langconnect-postgres-pitr-20261206101500-rw");
    assertThat(env.get("POSTGRES_PASSWORD").getValueFrom().getSecretKeyRef().getName())
        .isEqualTo("langconnect-postgres-pitr-20261206101500-app");
  }
}
