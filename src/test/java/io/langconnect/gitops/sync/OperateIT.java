package io.langconnect.gitops.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.cli.CliTest;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.status.EnvironmentStatus.Result;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.JobsSucceed;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.ValuesRepo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operating habits and the guards that refuse a data-losing commit, as a user meets them: suspend and resume, a
 * missing password Secret, a held prune, a refused major upgrade, a held database change whose backup failed, and
 * renames. Against the real API server (no node runs these pods: backups cannot finish here, NodeE2EIT has those).
 */
@ExtendWith(LocalControlPlane.class)
class OperateIT {

  @TempDir
  Path tmp;

  private LocalControlPlane plane;
  private KubernetesClient admin;
  private ValuesRepo repo;
  private PodReadiness kubelet;
  private String stagingNs;
  private String prodNs;
  private String stateNs;

  @BeforeEach
  void setUp(LocalControlPlane plane) throws Exception {
    this.plane = plane;
    this.admin = plane.admin();
    stagingNs = plane.uniqueNamespace("op-staging");
    prodNs = plane.uniqueNamespace("op-prod");
    stateNs = plane.uniqueNamespace("op-state");
    kubelet = PodReadiness.markReady(admin, "op-");
    repo = ValuesRepo.create(plane, tmp.resolve("work"));
    repo.write("values.yaml", "langconnect:\n  image:\n    repository: registry.example.com/langconnect\n")
        .write("values-staging.yaml", staging(""))
        .write("values-prod.yaml", prod(""));
    repo.commitAndPush("first values");
  }

  private String staging(String extra) {
    return "namespace: " + stagingNs + "\npostgres:\n  auth:\n    password: staging-password\n" + extra;
  }

  private String prod(String postgresExtra) {
    return "namespace: " + prodNs + "\npostgres:\n  persistence:\n    enabled: true\n    size: 1Gi\n" + postgresExtra;
  }

  @AfterEach
  void tearDown() {
    kubelet.close();
    repo.close();
  }

  private SyncHarness harness(Duration backupTimeout) throws Exception {
    return new SyncHarness(plane, admin, repo.gitUrl(), tmp.resolve("clone-" + System.nanoTime()), stateNs,
        Duration.ofSeconds(60), backupTimeout);
  }

  private CliTest.Run cli(String... args) {
    List<String> all = new java.util.ArrayList<>(List.of(args));
    all.addAll(List.of("--kubeconfig", plane.kubeconfig(), "--state-namespace", stateNs));
    return CliTest.run(all.toArray(String[]::new));
  }

  private Deployment deployment(String namespace, String name) {
    return admin.apps().deployments().inNamespace(namespace).withName(name).get();
  }

  private StatefulSet database(String namespace) {
    return admin.apps().statefulSets().inNamespace(namespace).withName("langconnect-postgres").get();
  }

  private List<String> eventReasons(String namespace) {
    return admin.events().v1().events().inNamespace(namespace).list().getItems().stream().map(Event::getReason).toList();
  }

  private double gauge(SyncHarness sync, String name, String environment) {
    return sync.registry.find(name).tag("environment", environment).gauge().value();
  }

  @Test
  void suspendedEnvironmentAppliesNothingAndSaysWhatWouldChangeUntilResumed() throws Exception {
    try (SyncHarness sync = harness(Duration.ofMinutes(1))) {
      sync.syncAll();
      sync.service.controls().suspend("staging", "alice", "restoring last night's dump");
      repo.write("values-staging.yaml", staging("langconnect:\n  replicaCount: 2\n")).commitAndPush("scale staging");
      admin.apps().statefulSets().inNamespace(stagingNs).withName("langconnect-postgres").scale(3);

      EnvironmentStatus suspended = sync.syncAll().get("staging");

      assertThat(suspended.result()).isEqualTo(Result.SUSPENDED);
      assertThat(suspended.message()).startsWith("suspended by alice at ").contains(": restoring last night's dump;"
          + " nothing applied: would have created 0, configured 2");
      assertThat(suspended.suspension()).hasValueSatisfying(s -> assertThat(s.by()).isEqualTo("alice"));
      assertThat(deployment(stagingNs, "langconnect-langconnect").getSpec().getReplicas()).as("not applied").isEqualTo(1);
      assertThat(database(stagingNs).getSpec().getReplicas()).as("drift left alone").isEqualTo(3);
      assertThat(gauge(sync, "langconnect.environment.suspended", "staging")).isEqualTo(1.0);
      assertThat(gauge(sync, "langconnect.environment.suspended", "prod")).isEqualTo(0.0);

      // A restarted controller (a new harness) reads the suspension from the cluster.
      try (SyncHarness restarted = harness(Duration.ofMinutes(1))) {
        assertThat(restarted.syncAll().get("staging").result()).isEqualTo(Result.SUSPENDED);
      }

      sync.service.controls().resume("staging");
      EnvironmentStatus resumed = sync.syncAll().get("staging");
      assertThat(resumed.result()).isEqualTo(Result.SYNCED);
      assertThat(resumed.suspension()).isEmpty();
      assertThat(deployment(stagingNs, "langconnect-langconnect").getSpec().getReplicas()).isEqualTo(2);
      assertThat(database(stagingNs).getSpec().getReplicas()).isEqualTo(1);
      assertThat(gauge(sync, "langconnect.environment.suspended", "staging")).isEqualTo(0.0);
    }
  }

  @Test
  void missingExistingSecretIsReportedBeforeAnythingIsApplied() throws Exception {
    repo.write("values-staging.yaml", "namespace: " + stagingNs + "\npostgres:\n  auth:\n    existingSecret: team-db\n")
        .commitAndPush("bring our own Secret");
    try (SyncHarness sync = harness(Duration.ofMinutes(1))) {
      EnvironmentStatus failed = sync.syncAll().get("staging");
      assertThat(failed.result()).isEqualTo(Result.FAILED);
      assertThat(failed.message()).isEqualTo("values-staging.yaml: postgres.auth.existingSecret: Secret team-db in"
          + " namespace " + stagingNs + " does not exist, so neither pod could start; nothing was applied. Create it with"
          + " `kubectl create namespace " + stagingNs + "` and `kubectl -n " + stagingNs + " create secret generic team-db"
          + " --from-literal=postgres-password=...`");
      assertThat(admin.namespaces().withName(stagingNs).get()).as("nothing applied, not even the namespace").isNull();

      admin.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
          .withName(stagingNs).endMetadata().build()).create();
      admin.resource(new SecretBuilder().withNewMetadata().withName("team-db").withNamespace(stagingNs).endMetadata()
          .addToStringData("password", "wrong key").build()).create();
      assertThat(sync.syncAll().get("staging").message()).contains("has no key postgres-password");
      assertThat(eventReasons(stagingNs)).contains("MissingSecret");

      admin.secrets().inNamespace(stagingNs).withName("team-db").edit(s -> new SecretBuilder(s)
          .addToStringData("postgres-password", "s3cret").build());
      assertThat(sync.syncAll().get("staging").result()).isEqualTo(Result.SYNCED);
    }
  }

  @Test
  void removingEveryValuesFilePrunesNothingUntilConfirmed() throws Exception {
    try (SyncHarness sync = harness(Duration.ofMinutes(1))) {
      sync.syncAll();
      repo.delete("values-staging.yaml").delete("values-prod.yaml").commitAndPush("oops: an empty folder");

      Map<String, EnvironmentStatus> held = sync.syncAll();

      assertThat(held.get("staging").result()).isEqualTo(Result.PRUNE_HELD);
      assertThat(held.get("staging").message()).isEqualTo("values file removed with every other values file; pruning"
          + " staging is held: nothing was deleted. Run `langconnect-gitops prune --env staging --confirm` to prune it"
          + " (volume claims and the namespace are kept), or restore its values file");
      assertThat(held.get("prod").message()).contains("pruning the production environment prod is held");
      assertThat(deployment(stagingNs, "langconnect-langconnect")).isNotNull();
      assertThat(database(prodNs)).isNotNull();
      assertThat(eventReasons(prodNs)).contains("PruneHeld");

      // The CLI first says what would go (exit 1), then confirms.
      CliTest.Run preview = cli("prune", "--env", "staging");
      assertThat(preview.exit()).as(preview.err()).isEqualTo(1);
      assertThat(preview.out()).startsWith("would prune from " + stagingNs
          + " (PersistentVolumeClaims and the namespace are kept):\n").contains("  Deployment/langconnect-langconnect\n");
      CliTest.Run confirmed = cli("prune", "--env", "staging", "--confirm");
      assertThat(confirmed.exit()).as(confirmed.err()).isZero();
      Map<String, EnvironmentStatus> after = sync.syncAll();
      assertThat(after.get("staging").result()).isEqualTo(Result.PRUNED);
      assertThat(deployment(stagingNs, "langconnect-langconnect")).isNull();
      assertThat(after.get("prod").result()).as("prod was not confirmed").isEqualTo(Result.PRUNE_HELD);

      // Restoring the file is the other way out: prod syncs again, nothing was lost.
      repo.write("values-prod.yaml", prod("")).commitAndPush("restore prod");
      assertThat(sync.syncAll().get("prod").result()).isEqualTo(Result.SYNCED);
    }
  }

  @Test
  void removingTheProductionValuesFileAloneIsHeldAndOthersPruneAsBefore() throws Exception {
    repo.write("values-dev.yaml", "namespace: " + stagingNs + "-dev\n").commitAndPush("add dev");
    try (SyncHarness sync = harness(Duration.ofMinutes(1))) {
      sync.syncAll();
      repo.delete("values-prod.yaml").delete("values-dev.yaml").commitAndPush("retire prod and dev");
      Map<String, EnvironmentStatus> results = sync.syncAll();
      assertThat(results.get("dev").result()).isEqualTo(Result.PRUNED);
      assertThat(results.get("prod").result()).isEqualTo(Result.PRUNE_HELD);
      sync.service.confirmPrune("prod");
      assertThat(sync.syncAll().get("prod").result()).isEqualTo(Result.PRUNED);
      assertThat(admin.persistentVolumeClaims().inNamespace(prodNs).withName("langconnect-postgres").get())
          .as("data is kept").isNotNull();
    }
  }

  @Test
  void majorUpgradeIsRefusedAndADatabaseChangeWaitsForItsBackup() throws Exception {
    try (SyncHarness sync = harness(Duration.ofSeconds(3))) {
      sync.syncAll();
      repo.write("values-prod.yaml", prod("  image:\n    tag: pg17\n")).commitAndPush("PostgreSQL 17");

      EnvironmentStatus refused = sync.syncAll().get("prod");

      assertThat(refused.result()).isEqualTo(Result.HELD);
      assertThat(refused.message()).startsWith("values-prod.yaml:7: postgres.image.tag: pg17 is PostgreSQL 17 but the"
          + " data of prod was written by PostgreSQL 16 (the running image's tag), which 17 cannot open; refused");
      assertThat(image(prodNs)).isEqualTo("pgvector/pgvector:pg16");
      assertThat(eventReasons(prodNs)).contains("MajorUpgradeRefused");

      // Allowed: the database restarts, so prod (backup.beforeChange by default) backs up first. No node runs the
      // backup here, so it does not finish: the database change is held, the rest of prod still syncs.
      repo.write("values-prod.yaml", prod("  image:\n    tag: pg17\n  upgrade:\n    allowMajor: true\n")
          + "langconnect:\n  replicaCount: 2\n").commitAndPush("PostgreSQL 17, allowed; scale");
      EnvironmentStatus held = sync.syncAll().get("prod");

      assertThat(held.result()).isEqualTo(Result.HELD);
      assertThat(held.message()).startsWith("the PostgreSQL change (spec.template.spec.containers[0].image)"
          + " is held: backup Job langconnect-postgres-backup-manual-").contains("did not finish within 3s");
      assertThat(image(prodNs)).isEqualTo("pgvector/pgvector:pg16");
      assertThat(deployment(prodNs, "langconnect-langconnect").getSpec().getReplicas()).isEqualTo(2);
      assertThat(held.objects()).anySatisfy(o -> assertThat(o.name() + " " + o.action()).isEqualTo("langconnect-postgres held"));
      assertThat(eventReasons(prodNs)).contains("BackupBeforeChange", "DatabaseChangeHeld");
      assertThat(admin.batch().v1().jobs().inNamespace(prodNs).withLabel(Labels.COMPONENT, Labels.BACKUP).list().getItems())
          .as("the CronJob's own Job").isNotEmpty();

      repo.write("values-prod.yaml", prod("  image:\n    tag: pg17\n  upgrade:\n    allowMajor: true\n")
          + "langconnect:\n  replicaCount: 2\nbackup:\n  beforeChange: false\n").commitAndPush("no backup first");
      assertThat(sync.syncAll().get("prod").result()).isEqualTo(Result.SYNCED);
      assertThat(image(prodNs)).isEqualTo("pgvector/pgvector:pg17");
    }
  }

  private String image(String namespace) {
    return database(namespace).getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
  }

  @Test
  void aRenameThatWouldStartAnEmptyDatabaseIsHeldUntilTheOldClaimIsUsedOrANewOneConfirmed() throws Exception {
    try (SyncHarness sync = harness(Duration.ofMinutes(1))) {
      sync.syncAll();
      repo.write("values-prod.yaml", "release: rag\n" + prod("")).commitAndPush("rename the release");

      EnvironmentStatus held = sync.syncAll().get("prod");
      assertThat(held.result()).isEqualTo(Result.HELD);
      assertThat(held.message()).startsWith("values-prod.yaml:1: release: rag in " + prodNs + " would start an empty"
          + " database beside the data in PersistentVolumeClaim langconnect-postgres in " + prodNs);
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).withName("rag-postgres").get()).isNull();
      assertThat(eventReasons(prodNs)).contains("NewDatabaseHeld");

      // The old claim, kept: the old database is backed up (prod is production), then stopped before the new one
      // starts on the same data.
      repo.write("values-prod.yaml", "release: rag\n" + prod("    existingClaim: langconnect-postgres\n"))
          .commitAndPush("rename, keeping the data");
      EnvironmentStatus renamed;
      try (JobsSucceed kubelet = JobsSucceed.in(admin, prodNs)) {
        renamed = sync.syncAll().get("prod");
      }
      assertThat(renamed.result()).isEqualTo(Result.SYNCED);
      assertThat(renamed.message()).contains("database replaced: StatefulSet langconnect-postgres gives way to"
          + " StatefulSet rag-postgres, stopped first").contains("backup Job langconnect-postgres-backup-manual-");
      assertThat(eventReasons(prodNs)).contains("BackupBeforeChange", "DatabaseReplaced");
      assertThat(database(prodNs)).isNull();
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).withName("rag-postgres").get().getSpec().getTemplate()
          .getSpec().getVolumes().get(0).getPersistentVolumeClaim().getClaimName()).isEqualTo("langconnect-postgres");
      assertThat(admin.persistentVolumeClaims().inNamespace(prodNs).withName("langconnect-postgres").get()).isNotNull();

      // A namespace cannot take a claim along: held until a new, empty database is confirmed.
      String moved = prodNs + "-moved";
      repo.write("values-prod.yaml", "release: rag\nnamespace: " + moved
          + "\npostgres:\n  persistence:\n    enabled: true\n    size: 1Gi\n").commitAndPush("move prod");
      assertThat(sync.syncAll().get("prod").message()).contains("A claim cannot move between namespaces");
      CliTest.Run confirm = cli("confirm-new-database", "--env", "prod", "--repo", repo.gitUrl(),
          "--work-dir", tmp.resolve("cli-clone").toString());
      assertThat(confirm.exit()).as(confirm.err()).isZero();
      assertThat(confirm.out()).isEqualTo("prod: a new, empty database in " + moved
          + " (release rag) is confirmed; the controller syncs it now\n");
      EnvironmentStatus confirmed;
      try (JobsSucceed kubelet = JobsSucceed.in(admin, prodNs)) {
        confirmed = sync.syncAll().get("prod");
      }
      assertThat(confirmed.result()).isEqualTo(Result.SYNCED);
      assertThat(admin.apps().statefulSets().inNamespace(moved).withName("rag-postgres").get()).isNotNull();
      assertThat(admin.apps().statefulSets().inNamespace(prodNs).withName("rag-postgres").get())
          .as("pruned from the old namespace").isNull();
      assertThat(admin.persistentVolumeClaims().inNamespace(prodNs).withName("langconnect-postgres").get())
          .as("the old data stays").isNotNull();
    }
  }
}
