package io.langconnect.gitops.sync;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static io.langconnect.gitops.testenv.FaultProxy.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.langconnect.gitops.control.ControlStore;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.status.EnvironmentStatus.Result;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.FaultProxy.Fault;
import io.langconnect.gitops.testenv.FaultProxy;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.ValuesRepo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Syncs against the real local API server from a real git repository, as the controller does. */
@ExtendWith(LocalControlPlane.class)
class SyncIT {

  @TempDir
  Path tmp;

  private LocalControlPlane plane;
  private KubernetesClient admin;
  private ValuesRepo repo;
  private volatile PodReadiness kubelet;
  private String stagingNs;
  private String prodNs;
  private String stateNs;

  @BeforeEach
  void setUp(LocalControlPlane plane) throws Exception {
    this.plane = plane;
    this.admin = plane.admin();
    stagingNs = plane.uniqueNamespace("it-staging");
    prodNs = plane.uniqueNamespace("it-prod");
    stateNs = plane.uniqueNamespace("it-state");
    kubelet = PodReadiness.markReady(admin, "it-");
    repo = ValuesRepo.create(plane, tmp.resolve("work"));
    repo.write("values.yaml", """
            langconnect:
              image:
                repository: registry.example.com/langconnect
                tag: "1.0.0"
            """)
        .write("values-staging.yaml", """
            namespace: %s
            langconnect:
              env:
                ALLOW_ORIGINS: '["*"]'
                LOG_LEVEL: debug
            postgres:
              auth:
                password: staging-password
            """.formatted(stagingNs))
        .write("values-prod.yaml", """
            namespace: %s
            postgres:
              persistence:
                enabled: true
                size: 1Gi
            """.formatted(prodNs));
    repo.commitAndPush("first values");
  }

  @AfterEach
  void tearDown() {
    kubelet.close();
    repo.close();
  }

  private SyncHarness harness(KubernetesClient client) throws Exception {
    return new SyncHarness(plane, client, repo.gitUrl(), tmp.resolve("clone-" + System.nanoTime()), stateNs,
        Duration.ofSeconds(60));
  }

  private Map<String, String> resourceVersions(String namespace) {
    Map<String, String> versions = new HashMap<>();
    List<List<? extends HasMetadata>> lists = List.of(
        admin.secrets().inNamespace(namespace).withLabel(Labels.MANAGED_BY, Labels.MANAGER).list().getItems(),
        admin.services().inNamespace(namespace).withLabel(Labels.MANAGED_BY, Labels.MANAGER).list().getItems(),
        admin.apps().deployments().inNamespace(namespace).withLabel(Labels.MANAGED_BY, Labels.MANAGER).list().getItems(),
        admin.apps().statefulSets().inNamespace(namespace).withLabel(Labels.MANAGED_BY, Labels.MANAGER).list().getItems(),
        admin.persistentVolumeClaims().inNamespace(namespace).withLabel(Labels.MANAGED_BY, Labels.MANAGER).list().getItems());
    // Deployments: the spec's generation, since the Deployment controller updates their status (and so their
    // resourceVersion) on its own while pods come up.
    lists.forEach(list -> list.forEach(o -> versions.put(o.getKind() + "/" + o.getMetadata().getName(),
        o instanceof Deployment ? "generation " + o.getMetadata().getGeneration() : o.getMetadata().getResourceVersion())));
    return versions;
  }

  @Test
  void aReplicaBehindNeverAppliesAnOlderRevisionOverANewerOneButARollbackByForcePushIsApplied() throws Exception {
    try (SyncHarness behind = harness(admin); SyncHarness current = harness(admin)) {
      assertThat(behind.syncAll().get("staging").result()).isEqualTo(Result.SYNCED);
      String staging = Files.readString(tmp.resolve("work/values-staging.yaml"));
      String first = admin.configMaps().inNamespace(stateNs).withName("inventory-staging").get().getData().get("revision");
      String second = repo.write("values-staging.yaml", staging.replace("LOG_LEVEL: debug", "LOG_LEVEL: info"))
          .commitAndPush("staging logs less");
      assertThat(current.syncAll().get("staging").result()).isEqualTo(Result.SYNCED);
      assertThat(env(langconnect(stagingNs))).containsEntry("LOG_LEVEL", "info");

      // The replica that fetched before the commit syncs its older revision again (as a drift check would).
      EnvironmentStatus stale = behind.syncFetched().get("staging");
      assertThat(stale.result()).isEqualTo(Result.PROGRESSING);
      assertThat(stale.message()).contains("revision " + first.substring(0, 12) + " is older than "
          + second.substring(0, 12) + ", which its inventory records").contains("nothing applied");
      assertThat(env(langconnect(stagingNs))).as("the newer revision stays applied").containsEntry("LOG_LEVEL", "info");
      assertThat(admin.configMaps().inNamespace(stateNs).withName("inventory-staging").get().getData())
          .containsEntry("revision", second);

      // A force push back to the first commit is a rollback: the newer commit is no longer on the branch.
      repo.resetTo(first).push();
      assertThat(behind.syncAll().get("staging").result()).isEqualTo(Result.SYNCED);
      assertThat(env(langconnect(stagingNs))).containsEntry("LOG_LEVEL", "debug");
    }
  }

  @Test
  void aRotatedPasswordRollsBothWorkloadsWhoseAnnotationTellsNothingOfIt() throws Exception {
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      String database = databaseChecksum(stagingNs);
      String app = langconnect(stagingNs).getSpec().getTemplate().getMetadata().getAnnotations()
          .get(Labels.SECRET_CHECKSUM_ANNOTATION);
      // Whoever may read pods must not be able to test a guessed password against the annotation.
      String guess = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest("langconnect-postgres\nstaging-password".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      assertThat(database).isNotEqualTo(guess).doesNotContain(guess.substring(0, 16)).isEqualTo(app);

      String staging = Files.readString(tmp.resolve("work/values-staging.yaml"));
      repo.write("values-staging.yaml", staging.replace("LOG_LEVEL: debug", "LOG_LEVEL: info")).commitAndPush("unrelated");
      sync.syncAll();
      assertThat(databaseChecksum(stagingNs)).as("nothing the pods read changed").isEqualTo(database);

      repo.write("values-staging.yaml", staging.replace("staging-password", "rotated-password")).commitAndPush("rotate");
      assertThat(sync.syncAll().get("staging").result()).isEqualTo(Result.SYNCED);
      assertThat(databaseChecksum(stagingNs)).as("the database's pods roll").isNotEqualTo(database);
      assertThat(langconnect(stagingNs).getSpec().getTemplate().getMetadata().getAnnotations()
          .get(Labels.SECRET_CHECKSUM_ANNOTATION)).as("LangConnect's pods roll").isNotEqualTo(app);
    }
  }

  private String databaseChecksum(String namespace) {
    return admin.apps().statefulSets().inNamespace(namespace).withName("langconnect-postgres").get().getSpec()
        .getTemplate().getMetadata().getAnnotations().get(Labels.SECRET_CHECKSUM_ANNOTATION);
  }

  private Deployment langconnect(String namespace) {
    return admin.apps().deployments().inNamespace(namespace).withName("langconnect-langconnect").get();
  }

  private static Map<String, String> env(Deployment deployment) {
    return deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> e.getValue() != null).collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }

  @Test
  void firstSyncCreatesEveryObjectAndASecondMakesNoWrites() throws Exception {
    try (SyncHarness sync = harness(admin)) {
      Map<String, EnvironmentStatus> first = sync.syncAll();
      assertThat(first.values()).extracting(EnvironmentStatus::result).containsOnly(Result.SYNCED);
      assertThat(resourceVersions(stagingNs)).containsOnlyKeys("Secret/langconnect-postgres",
          "Service/langconnect-postgres", "StatefulSet/langconnect-postgres",
          "Deployment/langconnect-langconnect", "Service/langconnect-langconnect");
      assertThat(resourceVersions(prodNs)).containsKey("PersistentVolumeClaim/langconnect-postgres");
      Deployment deployment = langconnect(stagingNs);
      assertThat(deployment.getMetadata().getAnnotations()).containsKey(Labels.REVISION_ANNOTATION);
      assertThat(deployment.getMetadata().getManagedFields()).extracting(m -> m.getManager()).contains(Labels.MANAGER);
    }
    // A fresh controller (as after a restart) with the same repository: nothing to write, so nothing is written.
    try (FaultProxy proxy = FaultProxy.start(plane);
         KubernetesClient counted = plane.client(proxy.url(), plane.adminToken());
         SyncHarness again = harness(counted)) {
      Map<String, EnvironmentStatus> second = again.syncAll();
      assertThat(second.values()).extracting(EnvironmentStatus::message).containsOnly("in sync");
      assertThat(proxy.writeCount()).isZero();
    }
  }

  @Test
  void valuesChangeUpdatesOnlyWhatChanged() throws Exception {
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      Map<String, String> stagingBefore = resourceVersions(stagingNs);
      Map<String, String> prodBefore = resourceVersions(prodNs);

      repo.write("values-staging.yaml", """
          namespace: %s
          langconnect:
            replicaCount: 2
            env:
              ALLOW_ORIGINS: '["*"]'
          postgres:
            auth:
              password: staging-password
          """.formatted(stagingNs));
      String revision = repo.commitAndPush("scale staging, drop LOG_LEVEL");
      sync.syncAll();

      Map<String, String> stagingAfter = resourceVersions(stagingNs);
      assertThat(stagingAfter.get("Deployment/langconnect-langconnect"))
          .isNotEqualTo(stagingBefore.get("Deployment/langconnect-langconnect"));
      stagingBefore.remove("Deployment/langconnect-langconnect");
      stagingAfter.remove("Deployment/langconnect-langconnect");
      assertThat(stagingAfter).isEqualTo(stagingBefore);
      assertThat(resourceVersions(prodNs)).isEqualTo(prodBefore);

      Deployment deployment = langconnect(stagingNs);
      assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
      assertThat(env(deployment)).containsKey("ALLOW_ORIGINS").doesNotContainKey("LOG_LEVEL");
      assertThat(deployment.getMetadata().getAnnotations()).containsEntry(Labels.REVISION_ANNOTATION, revision);
    }
  }

  /** Prod's database pod deleted with no kubelet to make the next one ready: the database does not run. */
  private void stopProdsDatabase() throws InterruptedException {
    kubelet.close();
    admin.pods().inNamespace(prodNs).withLabel(Labels.COMPONENT, Labels.POSTGRES).delete();
    eventually("the database not ready", () -> {
      var set = admin.apps().statefulSets().inNamespace(prodNs).withName("langconnect-postgres").get();
      return set.getStatus().getReadyReplicas() == null || set.getStatus().getReadyReplicas() == 0;
    });
  }

  @Test
  void aChangeHeldWhileTheDatabaseWasDownGoesAheadOnceItRunsAgain() throws Exception {
    String prod = "namespace: " + prodNs + "\npostgres:\n  persistence:\n    enabled: true\n    size: 1Gi\n";
    try (SyncHarness sync = new SyncHarness(plane, admin, repo.gitUrl(), tmp.resolve("clone-down"), stateNs,
        Duration.ofSeconds(60), Duration.ofSeconds(20))) {
      assertThat(sync.syncAll().get("prod").result()).isEqualTo(Result.SYNCED);
      // Its pod deleted as a change is committed (the soak did it): for a moment the database does not run.
      stopProdsDatabase();
      repo.write("values-prod.yaml", prod + "  resources:\n    limits:\n      memory: 2Gi\n").commitAndPush("more memory");
      assertThat(sync.syncAll().get("prod").result()).isEqualTo(Result.HELD);
      assertThat(sync.service.refreshHealth("prod")).as("nothing to do while it is still down").isFalse();

      kubelet = PodReadiness.markReady(admin, "it-");
      // Running again, nothing else changed: the health check that sees it asks for the sync (backup first, then the change).
      eventually("a sync asked for once the database runs", () -> sync.service.refreshHealth("prod"));
    }
  }

  @Test
  void aChangeToADatabaseThatDoesNotRunIsHeldForItsBackupUntilAppliedWithoutOneOnce() throws Exception {
    String prod = "namespace: " + prodNs + "\npostgres:\n  persistence:\n    enabled: true\n    size: 1Gi\n";
    try (SyncHarness sync = new SyncHarness(plane, admin, repo.gitUrl(), tmp.resolve("clone-crash"), stateNs,
        Duration.ofSeconds(60), Duration.ofSeconds(20))) {
      assertThat(sync.syncAll().get("prod").result()).isEqualTo(Result.SYNCED);
      // The database stops running, as one OOM-killed in a loop does: its pod never gets ready again.
      stopProdsDatabase();
      repo.write("values-prod.yaml", prod + "  resources:\n    limits:\n      memory: 2Gi\n")
          .commitAndPush("more memory for the crashing database");

      EnvironmentStatus held = sync.syncAll().get("prod");
      assertThat(held.result()).isEqualTo(Result.HELD);
      assertThat(held.message()).contains("the database is not running, so the backup before it cannot be taken")
          .contains("langconnect-gitops apply-without-backup --env prod");

      sync.service.controls().skipBackupOnce("prod");
      // The new pod (the fix applied) starts and gets ready; the old one never did.
      long before = admin.apps().statefulSets().inNamespace(prodNs).withName("langconnect-postgres").get().getMetadata()
          .getGeneration();
      Thread fixed = new Thread(() -> {
        try {
          eventually("the change applied", () -> admin.apps().statefulSets().inNamespace(prodNs)
              .withName("langconnect-postgres").get().getMetadata().getGeneration() > before);
          kubelet = PodReadiness.markReady(admin, "it-");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      fixed.start();
      EnvironmentStatus applied = sync.syncAll().get("prod");
      fixed.join();
      assertThat(applied.result()).isEqualTo(Result.SYNCED);
      assertThat(applied.message()).contains("applied without the backup before it, as `apply-without-backup` asked");
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).withName("langconnect-postgres").get().getSpec()
          .getTemplate().getSpec().getContainers().get(0).getResources().getLimits().get("memory").toString())
          .isEqualTo("2Gi");
      assertThat(admin.events().v1().events().inNamespace(prodNs).list().getItems())
          .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("AppliedWithoutBackup"));
      assertThat(sync.service.controls().read("prod").skipBackupOnce()).as("once, not for every later change").isFalse();
    }
  }

  @Test
  void persistenceTurnedOffIsRefusedWhileTheDatabaseRunsOnItsClaim() throws Exception {
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      repo.write("values-prod.yaml", "namespace: " + prodNs + "\n").commitAndPush("persistence key dropped in a cleanup");
      EnvironmentStatus refused = sync.syncAll().get("prod");
      assertThat(refused.result()).isEqualTo(Result.HELD);
      assertThat(refused.message()).contains("would move the database of prod off PersistentVolumeClaim"
          + " langconnect-postgres onto an empty emptyDir");
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).withName("langconnect-postgres").get().getSpec()
          .getTemplate().getSpec().getVolumes().get(0).getPersistentVolumeClaim()).as("still on its claim").isNotNull();
    }
  }

  @Test
  void anEngineChangeIsRefusedWhileTheBundledDatabaseHoldsDataAndGoesAheadOnceConfirmedKeepingItsClaim()
      throws Exception {
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      admin.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("rag-db")
          .withNamespace(prodNs).endMetadata().addToStringData("postgres-password", "managed-password").build()).create();
      repo.write("values-prod.yaml", """
          namespace: %s
          postgres:
            engine: external
            external: {host: rag.db.example.com, existingSecret: rag-db}
          """.formatted(prodNs)).commitAndPush("prod on the managed database");
      EnvironmentStatus refused = sync.syncAll().get("prod");
      assertThat(refused.result()).isEqualTo(Result.HELD);
      assertThat(refused.message()).startsWith("values-prod.yaml:3: postgres.engine: external would point prod at"
          + " another, empty database, while its data stays in the bundled database's claim (engine bundled)");
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).withName("langconnect-postgres").get()).isNotNull();

      new ControlStore(admin, stateNs, new io.langconnect.gitops.apply.Retry(3, Duration.ofMillis(50),
          Duration.ofMillis(200))).confirmNewDatabase("prod", prodNs + "/langconnect");
      EnvironmentStatus moved = sync.syncAll().get("prod");
      assertThat(moved.result()).as(moved.message()).isEqualTo(Result.SYNCED);
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).withName("langconnect-postgres").get()).isNull();
      assertThat(admin.persistentVolumeClaims().inNamespace(prodNs).withName("langconnect-postgres").get())
          .as("the bundled database's data is kept").isNotNull();
      assertThat(admin.apps().deployments().inNamespace(prodNs).withName("langconnect-langconnect").get().getSpec()
          .getTemplate().getSpec().getContainers().get(0).getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("POSTGRES_HOST");
            assertThat(e.getValue()).isEqualTo("rag.db.example.com");
          });

      repo.write("values-prod.yaml", "namespace: " + prodNs + "\npostgres:\n  persistence: {enabled: true, size: 1Gi}\n")
          .commitAndPush("back to the bundled database");
      assertThat(sync.syncAll().get("prod").message()).as("the external database holds data too")
          .contains("postgres.engine: bundled would point prod at another, empty database, while its data stays in the"
              + " external database it used (engine external)");
    }
  }

  @Test
  void aRemovedEnvironmentThatComesBackLogsInToItsKeptDataWithItsGeneratedPassword() throws Exception {
    String qaNs = plane.uniqueNamespace("it-qa");
    String qa = "namespace: " + qaNs + "\npostgres:\n  persistence:\n    enabled: true\n    size: 1Gi\n";
    repo.write("values-qa.yaml", qa).commitAndPush("qa, with a generated password");
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      String password = admin.secrets().inNamespace(qaNs).withName("langconnect-postgres").get().getData()
          .get("postgres-password");
      repo.delete("values-qa.yaml").commitAndPush("qa removed by mistake");
      EnvironmentStatus pruned = sync.syncAll().get("qa");
      assertThat(pruned.result()).isEqualTo(Result.PRUNED);
      assertThat(pruned.message()).contains("the generated password Secret");
      repo.write("values-qa.yaml", qa).commitAndPush("revert: qa is back");
      assertThat(sync.syncAll().get("qa").result()).isEqualTo(Result.SYNCED);
      assertThat(admin.secrets().inNamespace(qaNs).withName("langconnect-postgres").get().getData()
          .get("postgres-password")).as("the password the kept data directory knows").isEqualTo(password);
    }
  }

  @Test
  void aDatabaseStartsOnAClaimOnlyOnceNoPodMountsItAnyMore() throws Exception {
    try (SyncHarness sync = new SyncHarness(plane, admin, repo.gitUrl(), tmp.resolve("clone-claim"), stateNs,
        Duration.ofSeconds(5))) {
      assertThat(sync.syncAll().get("prod").result()).isEqualTo(Result.SYNCED);
      // A pod of an earlier attempt that has not stopped yet, still on the claim.
      admin.resource(new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("old-postgres")
          .withNamespace(prodNs).endMetadata()
          .withNewSpec().addNewContainer().withName("postgres").withImage("postgres:16").endContainer()
          .addNewVolume().withName("data").withNewPersistentVolumeClaim().withClaimName("langconnect-postgres")
          .endPersistentVolumeClaim().endVolume().endSpec().build()).create();
      repo.write("values-prod.yaml", "namespace: " + prodNs + "\nrelease: rag\npostgres:\n  persistence:\n"
          + "    enabled: true\n    size: 1Gi\n    existingClaim: langconnect-postgres\nbackup:\n  beforeChange: false\n")
          .commitAndPush("renamed, data kept");

      EnvironmentStatus waiting = sync.syncAll().get("prod");
      assertThat(waiting.result()).isEqualTo(Result.PROGRESSING);
      assertThat(waiting.message()).contains("PersistentVolumeClaim langconnect-postgres in " + prodNs
          + " is still mounted by pod old-postgres");
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).withName("rag-postgres").get())
          .as("not started beside it").isNull();

      admin.pods().inNamespace(prodNs).withName("old-postgres").withGracePeriod(0).delete();
      admin.pods().inNamespace(prodNs).withName("old-postgres").waitUntilCondition(p -> p == null, 30, TimeUnit.SECONDS);
      assertThat(sync.syncAll().get("prod").result()).isEqualTo(Result.SYNCED);
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).withName("rag-postgres").get()).isNotNull();
    }
  }

  @Test
  void anObjectStoreWhoseCredentialsSecretIsMissingIsDegradedNamingIt() throws Exception {
    repo.write("values-prod.yaml", "namespace: " + prodNs + "\npostgres:\n  persistence:\n    enabled: true\n"
        + "    size: 1Gi\nbackup:\n  objectStore:\n    destinationPath: s3://backups/team-a\n    s3Credentials:\n"
        + "      accessKeyId: {name: backup-s3, key: ACCESS_KEY_ID}\n"
        + "      secretAccessKey: {name: backup-s3, key: ACCESS_SECRET_KEY}\n").commitAndPush("prod backs up off the cluster");
    try (SyncHarness sync = harness(admin)) {
      EnvironmentStatus missing = sync.syncAll().get("prod");
      assertThat(missing.health().state()).isEqualTo(io.langconnect.gitops.apply.Health.State.DEGRADED);
      assertThat(missing.health().message()).startsWith("values-prod.yaml")
          .endsWith("backup.objectStore.s3Credentials.accessKeyId: Secret backup-s3 in " + prodNs
              + " does not exist; backups cannot reach the object store until it does");
      admin.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("backup-s3")
          .withNamespace(prodNs).endMetadata().addToStringData("ACCESS_KEY_ID", "id").build()).create();
      assertThat(sync.syncAll().get("prod").health().message()).as("a key missing is named too")
          .contains("Secret backup-s3 in " + prodNs + " has no key ACCESS_SECRET_KEY");
      admin.secrets().inNamespace(prodNs).withName("backup-s3").edit(secret -> {
        secret.setStringData(java.util.Map.of("ACCESS_SECRET_KEY", "key"));
        return secret;
      });
      assertThat(sync.syncAll().get("prod").health().state()).isNotEqualTo(io.langconnect.gitops.apply.Health.State.DEGRADED);
    }
  }

  @Test
  void aPruneConfirmationIsVoidOnceTheValuesFileIsBack() throws Exception {
    String prodValues = "namespace: " + prodNs + "\npostgres:\n  persistence:\n    enabled: true\n    size: 1Gi\n";
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      repo.delete("values-prod.yaml").commitAndPush("retire prod, by mistake");
      assertThat(sync.syncAll().get("prod").result()).isEqualTo(Result.PRUNE_HELD);
      sync.service.confirmPrune("prod");
      repo.write("values-prod.yaml", prodValues).commitAndPush("prod is back before it was pruned");
      EnvironmentStatus back = sync.syncAll().get("prod");
      assertThat(back.result()).isEqualTo(Result.SYNCED);
      assertThat(back.message()).contains("the prune confirmed for its earlier removal is void");

      repo.delete("values-prod.yaml").commitAndPush("deleted again by accident, months later");
      assertThat(sync.syncAll().get("prod").result()).as("the old confirmation does not carry over")
          .isEqualTo(Result.PRUNE_HELD);
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).withName("langconnect-postgres").get()).isNotNull();
    }
  }

  @Test
  void removedEnvironmentIsPrunedButKeepsItsVolumeClaimAndNamespace() throws Exception {
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      repo.delete("values-prod.yaml").commitAndPush("retire prod");
      assertThat(sync.syncAll().get("prod").result()).as("production: held until confirmed").isEqualTo(Result.PRUNE_HELD);
      sync.service.confirmPrune("prod");
      Map<String, EnvironmentStatus> results = sync.syncAll();

      assertThat(results.get("prod").result()).isEqualTo(Result.PRUNED);
      assertThat(results.get("prod").message())
          .contains("pruned 5 object(s), kept 2 volume claim(s), the generated password Secret and the namespace");
      assertThat(admin.apps().deployments().inNamespace(prodNs).list().getItems()).isEmpty();
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).list().getItems()).isEmpty();
      assertThat(admin.services().inNamespace(prodNs).withLabel(Labels.MANAGED_BY).list().getItems()).isEmpty();
      assertThat(admin.persistentVolumeClaims().inNamespace(prodNs).withName("langconnect-postgres").get()).isNotNull();
      assertThat(admin.persistentVolumeClaims().inNamespace(prodNs).withName("langconnect-postgres-backups").get()).isNotNull();
      assertThat(admin.batch().v1().cronjobs().inNamespace(prodNs).list().getItems()).isEmpty();
      assertThat(admin.namespaces().withName(prodNs).get()).isNotNull();
      assertThat(resourceVersions(stagingNs)).hasSize(5);
    }
  }

  @Test
  void badValuesLeaveLiveObjectsUntouchedAndOtherEnvironmentsSyncing() throws Exception {
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      Map<String, String> stagingBefore = resourceVersions(stagingNs);
      repo.write("values-staging.yaml", "namespace: " + stagingNs + "\npostgres:\n  persistence:\n    enabled: yes\n")
          .write("values-prod.yaml", "namespace: " + prodNs + "\nlangconnect:\n  replicaCount: 3\n"
              + "postgres:\n  persistence:\n    enabled: true\n    size: 1Gi\n");
      repo.commitAndPush("break staging, scale prod");
      Map<String, EnvironmentStatus> results = sync.syncAll();

      assertThat(results.get("staging").result()).isEqualTo(Result.FAILED);
      assertThat(results.get("staging").message()).contains("values-staging.yaml:4: postgres.persistence.enabled");
      assertThat(resourceVersions(stagingNs)).isEqualTo(stagingBefore);
      assertThat(results.get("prod").result()).isEqualTo(Result.SYNCED);
      assertThat(langconnect(prodNs).getSpec().getReplicas()).isEqualTo(3);
    }
  }

  @Test
  void driftIsCorrected() throws Exception {
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      // As `kubectl set image` would: a patch, not a read-modify-write that races the controllers.
      admin.apps().deployments().inNamespace(stagingNs).withName("langconnect-langconnect")
          .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/image\","
              + "\"value\":\"registry.example.com/evil:latest\"}]");
      admin.apps().statefulSets().inNamespace(stagingNs).withName("langconnect-postgres").scale(3);
      admin.services().inNamespace(stagingNs).withName("langconnect-langconnect").delete();
      admin.services().inNamespace(stagingNs).withName("langconnect-langconnect")
          .waitUntilCondition(s -> s == null, 30, java.util.concurrent.TimeUnit.SECONDS);

      EnvironmentStatus status = sync.syncAll().get("staging");

      assertThat(status.result()).isEqualTo(Result.SYNCED);
      assertThat(langconnect(stagingNs).getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
          .isEqualTo("registry.example.com/langconnect:1.0.0");
      assertThat(admin.apps().statefulSets().inNamespace(stagingNs).withName("langconnect-postgres").get()
          .getSpec().getReplicas()).isEqualTo(1);
      assertThat(admin.services().inNamespace(stagingNs).withName("langconnect-langconnect").get()).isNotNull();
      assertThat(status.driftCorrections()).isEqualTo(2);
      assertThat(status.objects()).filteredOn(o -> o.action().equals("created"))
          .extracting(EnvironmentStatus.ObjectStatus::name).containsExactly("langconnect-langconnect");
      for (String kind : List.of("Deployment", "StatefulSet")) {
        assertThat(sync.registry.find("langconnect.drift.corrections").tag("environment", "staging").tag("kind", kind)
            .counter().count()).as(kind).isEqualTo(1.0);
      }
    }
  }

  @Test
  void aServicePortChangedByHandIsPutBackThoughServerSideApplyCannotMergeIt() throws Exception {
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      // As `kubectl edit` does (a read-modify-write): the port list's entry is keyed by its number, so ours and the
      // edited one would be merged side by side under one name, which the API server refuses (the soak found it).
      admin.services().inNamespace(stagingNs).withName("langconnect-postgres").edit(service -> {
        service.getSpec().getPorts().get(0).setPort(15432);
        return service;
      });

      EnvironmentStatus status = sync.syncAll().get("staging");

      assertThat(status.result()).as(status.message()).isEqualTo(Result.SYNCED);
      var ports = admin.services().inNamespace(stagingNs).withName("langconnect-postgres").get().getSpec().getPorts();
      assertThat(ports).extracting(p -> p.getPort()).containsExactly(5432);
      assertThat(status.driftCorrections()).isEqualTo(1);
      assertThat(sync.syncAll().get("staging").objects()).extracting(EnvironmentStatus.ObjectStatus::action)
          .as("the next sync applies it as usual").containsOnly("unchanged");
    }
  }

  @Test
  void transientApiErrorsAreRetried() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(plane);
         KubernetesClient client = plane.client(proxy.url(), plane.adminToken());
         SyncHarness sync = harness(client)) {
      proxy.inject(1, request("PATCH", "/secrets/langconnect-postgres"), Fault.status(500))
          .inject(1, request("PATCH", "/services/langconnect-postgres"), Fault.status(409))
          .inject(1, request("PATCH", "/deployments/langconnect-langconnect"), Fault.status(429))
          .inject(1, r -> r.method().name().equals("POST") && r.path().equals("/api/v1/namespaces"),
              Fault.delay(Duration.ofMillis(500)));

      Map<String, EnvironmentStatus> results = sync.syncAll();

      assertThat(results.values()).extracting(EnvironmentStatus::result).containsOnly(Result.SYNCED);
      assertThat(proxy.injectedCount()).isGreaterThanOrEqualTo(4);
      assertThat(resourceVersions(stagingNs)).hasSize(5);
    }
  }

  @Test
  void requestThatTimesOutIsRetried() throws Exception {
    try (FaultProxy proxy = FaultProxy.start(plane);
         KubernetesClient client = plane.client(proxy.url(), plane.adminToken(), Duration.ofSeconds(1));
         SyncHarness sync = harness(client)) {
      // The API server answers the first apply of the LangConnect Deployment only after the client gave up.
      proxy.inject(1, request("PATCH", "/deployments/langconnect-langconnect"), Fault.delay(Duration.ofSeconds(3)));

      Map<String, EnvironmentStatus> results = sync.syncAll();

      assertThat(results.values()).extracting(EnvironmentStatus::result).containsOnly(Result.SYNCED);
      assertThat(proxy.injectedCount()).isEqualTo(1);
      assertThat(langconnect(stagingNs)).isNotNull();
    }
  }

  @Test
  void failedSyncPrunesNothingAndTheNextOneConverges() throws Exception {
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
    }
    repo.write("values-staging.yaml", """
        namespace: %s
        langconnect:
          service:
            port: 9090
        postgres:
          auth:
            existingSecret: team-db
        """.formatted(stagingNs));
    repo.commitAndPush("bring our own Secret (removes ours), move the port");
    admin.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("team-db")
        .withNamespace(stagingNs).endMetadata().addToStringData("postgres-password", "theirs").build()).create();
    try (FaultProxy proxy = FaultProxy.start(plane);
         KubernetesClient client = plane.client(proxy.url(), plane.adminToken());
         SyncHarness sync = harness(client)) {
      // The API server keeps failing the LangConnect Service: the sync stops there, as after a crash mid-sync.
      proxy.inject(100, request("PATCH", "/services/langconnect-langconnect"), Fault.status(503));
      EnvironmentStatus failed = sync.syncAll().get("staging");
      assertThat(failed.result()).isEqualTo(Result.FAILED);
      assertThat(failed.message()).contains("503");
      assertThat(admin.secrets().inNamespace(stagingNs).withName("langconnect-postgres").get())
          .as("a failed sync prunes nothing").isNotNull();
    }
    try (SyncHarness restarted = harness(admin)) {
      EnvironmentStatus converged = restarted.syncAll().get("staging");
      assertThat(converged.result()).isEqualTo(Result.SYNCED);
      assertThat(admin.secrets().inNamespace(stagingNs).withName("langconnect-postgres").get()).isNull();
      assertThat(admin.services().inNamespace(stagingNs).withName("langconnect-langconnect").get()
          .getSpec().getPorts().get(0).getPort()).isEqualTo(9090);
      Map<String, String> settled = resourceVersions(stagingNs);
      assertThat(restarted.syncAll().get("staging").message()).isEqualTo("in sync");
      assertThat(resourceVersions(stagingNs)).isEqualTo(settled);
    }
  }

  @Test
  void aStepThatFailsAfterTheApplyKeepsWhatWasAppliedOnRecord() throws Exception {
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
    }
    admin.apps().statefulSets().inNamespace(stagingNs).withName("langconnect-postgres").scale(3);
    repo.write("values-staging.yaml", """
        namespace: %s
        langconnect:
          replicaCount: 2
        postgres:
          auth:
            password: staging-password
        """.formatted(stagingNs));
    repo.commitAndPush("scale staging");
    try (FaultProxy proxy = FaultProxy.start(plane);
         KubernetesClient client = plane.client(proxy.url(), plane.adminToken());
         SyncHarness sync = harness(client)) {
      // The list of what earlier moves left elsewhere, read after the apply, keeps failing.
      proxy.inject(100, r -> r.method().name().equals("GET") && r.path().endsWith("/configmaps")
          && String.valueOf(r.query()).contains("departed"),
          Fault.status(503));
      EnvironmentStatus failed = sync.syncAll().get("staging");
      assertThat(failed.result()).isEqualTo(Result.FAILED);
      assertThat(failed.message()).contains("could not be read").contains("503").doesNotContain("nothing applied");
      assertThat(failed.driftCorrections()).as("the scale was corrected").isEqualTo(1);
      assertThat(langconnect(stagingNs).getSpec().getReplicas()).isEqualTo(2);
    }
    try (SyncHarness healed = harness(admin)) {
      assertThat(healed.syncAll().get("staging").message()).as("the inventory recorded what was applied")
          .isEqualTo("in sync");
    }
  }

  @Test
  void generatedPasswordIsCreatedOnceAndKept() throws Exception {
    repo.write("values-staging.yaml", "namespace: " + stagingNs + "\n").commitAndPush("no password: generate one");
    try (SyncHarness sync = harness(admin)) {
      sync.syncAll();
      Secret first = admin.secrets().inNamespace(stagingNs).withName("langconnect-postgres").get();
      String password = first.getData().get("postgres-password");
      assertThat(java.util.Base64.getDecoder().decode(password)).hasSizeGreaterThanOrEqualTo(24);

      repo.write("values-staging.yaml", "namespace: " + stagingNs + "\nlangconnect:\n  replicaCount: 2\n")
          .commitAndPush("scale");
      sync.syncAll();
      Secret later = admin.secrets().inNamespace(stagingNs).withName("langconnect-postgres").get();
      assertThat(later.getData().get("postgres-password")).isEqualTo(password);
      assertThat(later.getMetadata().getResourceVersion()).isEqualTo(first.getMetadata().getResourceVersion());
    }
  }

  @Test
  void databaseThatNeverBecomesAvailableHoldsBackLangConnect() throws Exception {
    kubelet.close();
    try (SyncHarness sync = new SyncHarness(plane, admin, repo.gitUrl(), tmp.resolve("clone"), stateNs,
        Duration.ofSeconds(3))) {
      Map<String, EnvironmentStatus> results = sync.syncAll();
      EnvironmentStatus staging = results.get("staging");
      assertThat(staging.result()).isEqualTo(Result.PROGRESSING);
      assertThat(staging.message()).contains("PostgreSQL StatefulSet langconnect-postgres in " + stagingNs
          + " is not available after 3s; LangConnect was not updated");
      assertThat(langconnect(stagingNs)).isNull();
      assertThat(admin.v1().events().inNamespace(stagingNs).list().getItems())
          .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("WaitingForDatabase"));
    }
  }


  /**
   * A sync waiting for its database while the namespace is deleted stops waiting at once: the workload cannot become
   * available, and the wait held every other environment's sync behind it (the disaster drill's deleted prod once
   * kept the controller's syncs waiting for the whole timeout).
   */
  @Test
  void aDatabaseWaitEndsWhenItsNamespaceIsDeleted() throws Exception {
    kubelet.close();
    repo.delete("values-prod.yaml").commitAndPush("staging only");
    try (SyncHarness sync = new SyncHarness(plane, admin, repo.gitUrl(), tmp.resolve("clone"), stateNs,
        Duration.ofMinutes(3))) {
      var results = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return sync.syncAll();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      eventually("the sync waits for staging's database", () ->
          admin.apps().statefulSets().inNamespace(stagingNs).withName("langconnect-postgres").get() != null);
      admin.namespaces().withName(stagingNs).delete();
      EnvironmentStatus staging = results.get().get("staging");
      assertThat(staging.result()).isEqualTo(Result.PROGRESSING);
      assertThat(staging.message()).as("not the timeout's message: the wait ended with the namespace")
          .contains("namespace " + stagingNs + " is being deleted");
    }
  }
}
