package io.langconnect.gitops.e2e;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static io.langconnect.gitops.testenv.LocalControlPlane.await;
import static io.langconnect.gitops.testenv.Scrapes.value;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.cli.CliTest;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.testenv.DatabaseSettling;
import io.langconnect.gitops.testenv.LangConnectClient;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stack the controller renders, running for real on the test node (kubelet, containerd, runc): the controller
 * itself installed with {@code helm install} from charts/langconnect-gitops, syncing two environments from the git daemon,
 * the databases and LangConnect (a stand-in made with langchain-postgres) coming up through their real probes,
 * metrics from the default in-cluster discovery, data kept or lost as the README says, backups and restores that
 * run as pods, a password rotation, and a killed database. Nothing stands in for the kubelet.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeE2EIT {

  private static final String CONTROLLER_NS = "langconnect-gitops";
  private static final String API_TOKEN = "e2e-api-token";
  private static final Duration STARTUP = Duration.ofMinutes(4);
  private static final KubernetesSerialization YAML = new KubernetesSerialization();

  private final LocalControlPlane plane = new LocalControlPlane();

  /** A failed test says what the node showed: pods, restarts and their reasons, events, the last logs. */
  @RegisterExtension
  final TestWatcher diagnostics = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      for (String ns : Stream.of(CONTROLLER_NS, stagingNs, prodNs, analyticsNs, vectorsNs).filter(java.util.Objects::nonNull).toList()) {
        System.out.println("---- " + ns + " after " + context.getDisplayName() + "\n" + describe(ns));
      }
    }
  };
  private KubernetesClient admin;
  private ValuesRepo repo;
  private Path tmp;
  private Path values;
  private String stagingNs;
  private String prodNs;
  private String prodPassword = "prod-password-1";
  private String stagingExtra = "";
  private String stagingPostgres = "postgres:\n  auth: {password: staging-password}\n";
  private String prodBackup = "backup:\n  retention: 2\n  storage: {size: 1Gi}\n";
  private static final String EXTERNAL_PASSWORD = "external-password-1";
  private String analyticsNs;
  private String vectorsNs;
  private String analyticsPort;
  private String analyticsImage;
  private String externalDatabase;
  private String externalRole;

  @BeforeAll
  void installTheControllerAndTwoEnvironments(@TempDir Path tmp) throws Exception {
    this.tmp = tmp;
    admin = plane.admin();
    plane.awaitNamespaceGone(CONTROLLER_NS); // ManifestsIT installs the same manifests
    stagingNs = plane.uniqueNamespace("e2e-staging");
    prodNs = plane.uniqueNamespace("e2e-prod");
    values = Files.createDirectories(tmp.resolve("values"));
    writeValues();
    repo = ValuesRepo.create(plane, tmp.resolve("work"));
    copyValuesToRepo();
    repo.commitAndPush("two environments on the test node");

    String image = run(List.of("scripts/test-env.sh", "controller-image", "target/langconnect-gitops.jar")).strip();
    assertThat(image).isEqualTo(plane.setting("NODE_CONTROLLER_IMAGE"));
    for (HasMetadata crd : load(Path.of("src/test/resources/crds/monitoring-minimal.yaml"))) {
      admin.resource(crd).fieldManager("e2e").forceConflicts().serverSideApply();
    }
    eventually("the monitoring CRDs", () -> admin.apiextensions().v1().customResourceDefinitions().list().getItems().stream()
        .filter(c -> c.getSpec().getGroup().equals("monitoring.coreos.com")).allMatch(c -> c.getStatus() != null
            && c.getStatus().getConditions() != null && c.getStatus().getConditions().stream()
            .anyMatch(cond -> "Established".equals(cond.getType()) && "True".equals(cond.getStatus()))));
    helmInstall();

    onNode(CONTROLLER_NS, "the controller's two replicas are ready", () -> available(CONTROLLER_NS, "langconnect-gitops", 2));
    for (String ns : List.of(stagingNs, prodNs)) {
      onNode(ns, "PostgreSQL of " + ns + " is available through its probes", () -> databaseAvailable(ns));
      onNode(ns, "LangConnect of " + ns + " is available through its probes", () -> available(ns, "langconnect-langconnect", 1));
      // Available is not yet routable: kube-proxy writes the Service's rules a moment after the endpoint appears.
      eventually("LangConnect of " + ns + " answers through its Service", () -> answersThroughService(ns));
    }
  }

  @AfterAll
  void removeEverything() throws InterruptedException {
    if (repo != null) repo.close();
    if (admin == null) return;
    keepControllerLogs();
    // The controllers first, so nothing applies into a namespace while it is deleted; then CloudNativePG's Clusters.
    // Pods go at once (grace 0): a namespace whose pods still terminate is looked at again only after half their
    // grace period (CloudNativePG's instances have 1800 s: 15 minutes), and nothing here needs a clean shutdown.
    admin.namespaces().withName(CONTROLLER_NS).delete();
    admin.pods().inNamespace(CONTROLLER_NS).withGracePeriod(0).delete();
    plane.awaitNamespaceGone(CONTROLLER_NS);
    if (vectorsNs != null) {
      for (String kind : List.of("ScheduledBackup", "Backup", "Cluster")) {
        admin.genericKubernetesResources("postgresql.cnpg.io/v1", kind).inNamespace(vectorsNs).delete();
      }
    }
    List<String> namespaces = Stream.of(stagingNs, prodNs, analyticsNs, vectorsNs).filter(java.util.Objects::nonNull)
        .toList();
    namespaces.forEach(ns -> admin.namespaces().withName(ns).delete());
    namespaces.forEach(ns -> admin.pods().inNamespace(ns).withGracePeriod(0).delete());
    admin.rbac().clusterRoleBindings().withName("langconnect-gitops").delete();
    admin.rbac().clusterRoles().withName("langconnect-gitops").delete();
    for (String ns : namespaces) plane.awaitNamespaceGone(ns); // the node is free for the next test
    if (externalRole != null) {
      Pool superuser = plane.pool("postgres");
      try {
        await(superuser.query("DROP DATABASE IF EXISTS " + externalDatabase + " WITH (FORCE)").execute());
        await(superuser.query("DROP ROLE IF EXISTS " + externalRole).execute());
      } finally {
        superuser.close();
      }
    }
  }

  /** The controllers' whole logs, kept in target/e2e-logs for whoever looks into a slow or failed run. */
  private void keepControllerLogs() {
    try {
      Path dir = Files.createDirectories(Path.of("target", "e2e-logs"));
      for (Pod pod : admin.pods().inNamespace(CONTROLLER_NS).list().getItems()) {
        Files.writeString(dir.resolve(pod.getMetadata().getName() + ".log"),
            admin.pods().inNamespace(CONTROLLER_NS).withName(pod.getMetadata().getName()).getLog());
      }
    } catch (Exception e) {
      System.out.println("controller logs not kept: " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------------------------------------------------

  @Test
  @Order(1)
  void theStackRunsAndTheControllerObservesItByItsDefaultDiscovery() throws Exception {
    // The pods run as the renderer says: uid 999 with fsGroup 999, PGDATA on the claim (prod) or an emptyDir.
    Pod database = pod(prodNs, Labels.POSTGRES);
    assertThat(database.getSpec().getNodeName()).isEqualTo(plane.setting("NODE_NAME"));
    assertThat(exec(prodNs, database, "id", "-u")).isEqualTo("999");
    assertThat(exec(prodNs, database, "sh", "-c", "stat -c %u:%g $PGDATA/PG_VERSION")).isEqualTo("999:999");
    assertThat(admin.persistentVolumeClaims().inNamespace(prodNs).withName("langconnect-postgres").get().getStatus()
        .getPhase()).isEqualTo("Bound");

    // LangConnect's stand-in writes embeddings with LangChain, through the Service, with the password from the Secret.
    addDocuments(prodNs, "handbook", 12);
    addDocuments(prodNs, "faq", 5);
    addDocuments(stagingNs, "notes", 3);

    String version = query(prodNs, "SELECT extversion FROM pg_extension WHERE extname = 'vector'").getString(0);
    // Prometheus scrapes every replica (one target per pod): the leader alone queries the databases and exports
    // what it observed; a standby exports no observed series (none that could be stale or disagree).
    eventually("the leader's collector reports both environments", STARTUP, () -> onTheLeader(scrape ->
        value(scrape, "langconnect_postgres_up", prodNs) == 1 && value(scrape, "langconnect_postgres_up", stagingNs) == 1
            && value(scrape, "langconnect_api_up", prodNs) == 1 && value(scrape, "langconnect_api_up", stagingNs) == 1
            && value(scrape, "langconnect_vector_collection_embeddings", prodNs, "collection=\"handbook\"") == 12
            && value(scrape, "langconnect_vector_collection_embeddings", prodNs, "collection=\"faq\"") == 5
            && value(scrape, "langconnect_vector_collection_embeddings", stagingNs, "collection=\"notes\"") == 3
            && value(scrape, "langconnect_database_size_bytes", prodNs) > 1_000_000
            && value(scrape, "langconnect_pgvector_info", prodNs, "version=\"" + version + "\"") == 1
            && value(scrape, "langconnect_deployment_replicas", prodNs, "component=\"langconnect\"",
                "state=\"available\"") == 1));
    // Of the two replicas, only the leader exports what is observed (ControllerIT reads a standby's scrape itself).
    eventually("one replica's scrape holds the observed series", () -> {
      List<String> scrapes = scrapes();
      return scrapes.size() == 2 && scrapes.stream().filter(scrape -> scrape.contains("langconnect_postgres_up{")
          || scrape.contains("langconnect_vector_collection_embeddings{")).count() == 1;
    });
  }

  @Test
  @Order(2)
  void aRowInProdSurvivesItsDatabasePodAndStagingsEmptyDirDoesNot() throws Exception {
    for (String ns : List.of(stagingNs, prodNs)) {
      query(ns, "CREATE TABLE e2e_marker (note text)");
      query(ns, "INSERT INTO e2e_marker VALUES ('written before the pod was deleted')");
    }
    for (String ns : List.of(stagingNs, prodNs)) {
      Pod old = pod(ns, Labels.POSTGRES);
      try (DatabasePods pods = DatabasePods.watch(admin, ns)) {
        admin.pods().inNamespace(ns).withName(old.getMetadata().getName()).delete();
        // The replacement (a StatefulSet's, of the same name) starts only once the old pod is gone from the API:
        // never two postmasters on one volume.
        onNode(ns, "the old PostgreSQL pod gone and a new one ready in " + ns, () -> {
          Pod now = podOrNull(ns, Labels.POSTGRES);
          return now != null && !now.getMetadata().getUid().equals(old.getMetadata().getUid())
              && now.getMetadata().getDeletionTimestamp() == null && pods.created() >= 1 && ready(now);
        });
        assertThat(pods.mostAtOnce()).as("database pods that existed at the same time in " + ns).isEqualTo(1);
      }
    }
    assertThat(query(prodNs, "SELECT note FROM e2e_marker").getString(0)).isEqualTo("written before the pod was deleted");
    assertThat(query(stagingNs, "SELECT to_regclass('e2e_marker') IS NULL AS gone").getBoolean(0))
        .as("staging keeps its database in an emptyDir: a new pod starts empty, as the README says").isTrue();
  }

  @Test
  @Order(3)
  void backupsRunAsPodsKeepTheRetentionAndRestoreTheSameData() throws Exception {
    String checksum = embeddingsChecksum();
    double before = scrapes().stream().mapToDouble(scrape -> value(scrape, "langconnect_backup_last_success_timestamp_seconds", prodNs))
        .filter(v -> !Double.isNaN(v)).max().orElse(0);
    for (int i = 0; i < 3; i++) {
      CliTest.Run backup = CliTest.run("backup", "--env", "prod", "--values", values.toString(), "--kubeconfig",
          plane.kubeconfig());
      assertThat(backup.exit()).as(backup.err()).isZero();
      awaitJob(prodNs, backup.out().strip());
      Thread.sleep(1_100); // dumps and Jobs are named to the second
    }
    // The backups claim binds when its first Job runs (WaitForFirstConsumer).
    try (Stream<Path> files = Files.list(hostFolderOf(prodNs, "langconnect-postgres-backups"))) {
      assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".dump")).toList())
          .as("retention 2 over 3 backups").hasSize(2).allMatch(n -> n.matches("postgres-\\d{8}T\\d{6}Z\\.dump"));
    }
    eventually("the backup is exported by the leader", () -> onTheLeader(scrape ->
        value(scrape, "langconnect_backup_last_success_timestamp_seconds", prodNs) > before));

    query(prodNs, "DROP TABLE langchain_pg_embedding");
    CliTest.Run restore = CliTest.run("restore", "--env", "prod", "--backup", "latest", "--confirm", "--values",
        values.toString(), "--kubeconfig", plane.kubeconfig());
    assertThat(restore.exit()).as(restore.err()).isZero();
    awaitJob(prodNs, restore.out().strip());
    assertThat(embeddingsChecksum()).as("ids, vectors, documents and metadata").isEqualTo(checksum);
  }

  @Test
  @Order(4)
  void aPlainSqlDumpFromDockerComposeIsImportedThroughExec() throws Exception {
    // pg_dump of a Docker Compose setup writes plain SQL: made here by pg_dump from another PostgreSQL.
    String source = plane.newDatabase();
    Pool pool = plane.pool(source);
    await(pool.query("CREATE TABLE compose_notes (id int PRIMARY KEY, body text)").execute());
    await(pool.query("INSERT INTO compose_notes SELECT i, 'note ' || i FROM generate_series(1, 250) i").execute());
    pool.close();
    Path dump = tmp.resolve("compose.sql");
    var pg = plane.postgres(source);
    run(List.of("pg_dump", "--no-owner", "--no-privileges", "-h", pg.getHost(), "-p", String.valueOf(pg.getPort()), "-U",
        pg.getUser(), "-f", dump.toString(), source));
    assertThat(Files.readString(dump)).contains("CREATE TABLE public.compose_notes");

    CliTest.Run restore = CliTest.run("restore", "--env", "prod", "--from-file", dump.toString(), "--confirm", "--values",
        values.toString(), "--kubeconfig", plane.kubeconfig());

    assertThat(restore.exit()).as(restore.out() + restore.err()).isZero();
    assertThat(query(prodNs, "SELECT count(*) AS n FROM compose_notes").getLong(0)).isEqualTo(250);
  }

  @Test
  @Order(5)
  void aPasswordCommittedToGitRollsBothPodsAndEverythingReconnects() throws Exception {
    String oldDatabasePod = pod(prodNs, Labels.POSTGRES).getMetadata().getUid();
    String oldAppPod = pod(prodNs, Labels.LANGCONNECT).getMetadata().getName();
    // As the README says: the role's password first (it lives in the data directory), then the commit.
    query(prodNs, "ALTER ROLE postgres PASSWORD 'prod-password-2'");
    prodPassword = "prod-password-2";
    writeValues();
    copyValuesToRepo();
    repo.commitAndPush("rotate prod's database password");

    onNode(prodNs, "both prod pods rolled, the old ones gone, the new ones ready", () -> {
      Pod database = podOrNull(prodNs, Labels.POSTGRES);
      Pod app = podOrNull(prodNs, Labels.LANGCONNECT);
      // The database's pod keeps its name (a StatefulSet's): a new one is told by its uid.
      return admin.pods().inNamespace(prodNs).withName(oldAppPod).get() == null
          && database != null && app != null && !database.getMetadata().getUid().equals(oldDatabasePod)
          && !app.getMetadata().getName().equals(oldAppPod) && ready(database) && ready(app)
          && databaseAvailable(prodNs) && available(prodNs, "langconnect-langconnect", 1);
    });
    eventually("prod's new LangConnect answers through its Service", () -> answersThroughService(prodNs));
    // prod is production: before its database restarted, the backup CronJob's own Job ran on the node and finished.
    String backup = api("/api/v1/environments/prod").getString("lastBackupBeforeChange");
    assertThat(backup).startsWith("langconnect-postgres-backup-manual-");
    Job job = admin.batch().v1().jobs().inNamespace(prodNs).withName(backup).get();
    assertThat(job.getStatus().getSucceeded()).isEqualTo(1);
    assertThat(admin.events().v1().events().inNamespace(prodNs).list().getItems())
        .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("BackupBeforeChange"));
    addDocuments(prodNs, "handbook", 1); // LangConnect reaches the database with the new password
    eventually("the leader's collector reconnects with the new password", () -> onTheLeader(scrape ->
        value(scrape, "langconnect_postgres_up", prodNs) == 1
            && value(scrape, "langconnect_vector_collection_embeddings", prodNs, "collection=\"handbook\"") == 13));
  }

  @Test
  @Order(6)
  void aKilledDatabaseIsRestartedCountedAndReportedDownThenUp() throws Exception {
    // The second kill in a row meets the kubelet's restart back-off: the database stays down for seconds.
    for (int kill = 1; kill <= 2; kill++) {
      Pod database = pod(prodNs, Labels.POSTGRES);
      int restarts = restarts(database);
      // PID 1 is PostgreSQL; the exec ends with it, so its exit status says nothing.
      new ProcessBuilder(plane.setting("KUBECTL"), "--kubeconfig", plane.kubeconfig(), "-n", prodNs, "exec",
          database.getMetadata().getName(), "--", "sh", "-c", "kill -INT 1").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(1, TimeUnit.MINUTES);
      if (kill == 2) {
        // Down for seconds only: one replica seeing it is enough.
        eventually("a collector sees the database down", () -> scrapes().stream()
            .anyMatch(scrape -> value(scrape, "langconnect_postgres_up", prodNs) == 0));
      }
      eventually("the container restarted and is ready", STARTUP, () -> {
        Pod now = podOrNull(prodNs, Labels.POSTGRES);
        return now != null && restarts(now) > restarts && ready(now);
      });
    }
    eventually("up again, and the restarts counted, on the leader", STARTUP, () -> onTheLeader(scrape ->
        value(scrape, "langconnect_postgres_up", prodNs) == 1
            && value(scrape, "langconnect_container_restarts", prodNs, "component=\"postgres\"") >= 2));
  }

  @Test
  @Order(7)
  void aPodThatCannotStartTurnsItsEnvironmentDegradedWithThePodsOwnReasonUntilFixed() throws Exception {
    // As users wire OPENAI_API_KEY today: from a Secret they create by hand, here forgotten.
    stagingExtra = "langconnect:\n  env:\n    - name: OPENAI_API_KEY\n      valueFrom:\n"
        + "        secretKeyRef: {name: openai, key: api-key}\n";
    writeValues();
    copyValuesToRepo();
    repo.commitAndPush("staging reads its OpenAI key from a Secret");

    eventually("staging is Degraded, saying why", STARTUP, () -> "Degraded".equals(
        api("/api/v1/environments/staging").getJsonObject("health").getString("status")));
    String message = api("/api/v1/environments/staging").getJsonObject("health").getString("message");
    assertThat(message).startsWith("Deployment langconnect-langconnect: pod langconnect-langconnect-")
        .contains("container langconnect is CreateContainerConfigError: secret \"openai\" not found");
    Path token = Files.writeString(tmp.resolve("get-token"), API_TOKEN);
    CliTest.Run get = CliTest.run("get", "--server", "http://" + serviceIp(CONTROLLER_NS, "langconnect-gitops") + ":8080",
        "--token-file", token.toString());
    assertThat(get.exit()).as(get.out() + get.err()).isEqualTo(1);
    assertThat(get.out()).containsPattern("staging +in-cluster +False +False +[0-9a-f]{12} .*Degraded: .*CreateContainerConfigError")
        .containsPattern("prod +in-cluster +True +False ");

    admin.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("openai")
        .withNamespace(stagingNs).endMetadata().addToStringData("api-key", "sk-test").build()).create();
    eventually("Ready again once the Secret exists", STARTUP,
        () -> api("/api/v1/environments/staging").getBoolean("ready", false));

    // No commit this time: the Secret goes, and with it the pod. A Ready environment is otherwise looked at again
    // only at its next sync (an hour away); its Deployment's status moving has its health read at once.
    admin.secrets().inNamespace(stagingNs).withName("openai").delete();
    admin.pods().inNamespace(stagingNs).withLabels(Labels.selector("langconnect", Labels.LANGCONNECT)).delete();
    eventually("Degraded again without a sync, within a minute", Duration.ofMinutes(1), () -> "Degraded".equals(
        api("/api/v1/environments/staging").getJsonObject("health", new JsonObject()).getString("status")));
    assertThat(api("/api/v1/environments/staging").getJsonObject("health").getString("message"))
        .contains("CreateContainerConfigError: secret \"openai\" not found");
  }

  @Test
  @Order(8)
  void anEnvironmentOfThePreviousReleaseMovesToAStatefulSetInOneSyncWithoutTwoPostmasters() throws Exception {
    // Prod as the previous release left it: its database a Deployment (Recreate) on the claim, and the inventory
    // naming that Deployment. Suspended while it is set up, as nothing else may touch it meanwhile.
    CliTest.Run suspend = CliTest.run("suspend", "--env", "prod", "--reason", "set up as the previous release",
        "--kubeconfig", plane.kubeconfig());
    assertThat(suspend.exit()).as(suspend.err()).isZero();
    StatefulSet current = admin.apps().statefulSets().inNamespace(prodNs).withName("langconnect-postgres").get();
    admin.apps().statefulSets().inNamespace(prodNs).withName("langconnect-postgres").delete();
    onNode(prodNs, "the StatefulSet's pod gone", () -> podOrNull(prodNs, Labels.POSTGRES) == null
        && admin.pods().inNamespace(prodNs).withLabels(Labels.selector("langconnect", Labels.POSTGRES)).list().getItems().isEmpty());
    Deployment previous = new DeploymentBuilder()
        .withNewMetadata().withName("langconnect-postgres").withNamespace(prodNs)
        .withLabels(current.getMetadata().getLabels()).withAnnotations(current.getMetadata().getAnnotations()).endMetadata()
        .withNewSpec().withReplicas(1).withNewStrategy().withType("Recreate").endStrategy()
        .withSelector(current.getSpec().getSelector()).withTemplate(current.getSpec().getTemplate()).endSpec().build();
    admin.resource(previous).fieldManager(Labels.MANAGER).forceConflicts().serverSideApply();
    var inventory = admin.configMaps().inNamespace(CONTROLLER_NS).withName("inventory-prod").get();
    String objects = inventory.getData().get("objects");
    assertThat(objects).contains("\"kind\":\"StatefulSet\"");
    inventory.getData().put("objects", objects.replace("\"kind\":\"StatefulSet\"", "\"kind\":\"Deployment\""));
    admin.resource(inventory).update();
    onNode(prodNs, "the previous release's database Deployment available", () -> available(prodNs, "langconnect-postgres", 1));
    query(prodNs, "CREATE TABLE migration_marker (note text)");
    query(prodNs, "INSERT INTO migration_marker VALUES ('written under the Deployment')");

    CliTest.Run diff = CliTest.run("diff", "--env", "prod", "--values", values.toString(), "--kubeconfig",
        plane.kubeconfig());
    assertThat(diff.out()).as(diff.err()).contains("# prod: Deployment/langconnect-postgres (would be stopped first,"
        + " its pod gone before StatefulSet/langconnect-postgres starts on the same claim)");
    try (DatabasePods pods = DatabasePods.watch(admin, prodNs)) {
      long started = System.nanoTime();
      CliTest.Run resume = CliTest.run("resume", "--env", "prod", "--kubeconfig", plane.kubeconfig());
      assertThat(resume.exit()).as(resume.err()).isZero();
      onNode(prodNs, "prod's database a StatefulSet, available, the Deployment gone", () -> databaseAvailable(prodNs)
          && admin.apps().deployments().inNamespace(prodNs).withName("langconnect-postgres").get() == null);
      System.out.printf("migration of prod from a Deployment to a StatefulSet: %d ms from resume to available%n",
          (System.nanoTime() - started) / 1_000_000);
      assertThat(pods.mostAtOnce()).as("database pods that existed at the same time during the move").isEqualTo(1);
    }
    assertThat(query(prodNs, "SELECT note FROM migration_marker").getString(0)).isEqualTo("written under the Deployment");
    // The sync's status says it until the next sync (the Deployment's deletion brings one at once); the Event stays.
    // The database is available before the sync ends (LangConnect and the CronJob come after it): waited for.
    eventually("the DatabaseReplaced Event", () -> admin.events().v1().events().inNamespace(prodNs).list().getItems()
        .stream().anyMatch(e -> (e.getReason() + ": " + e.getNote()).startsWith("DatabaseReplaced: database replaced:"
            + " Deployment langconnect-postgres gives way to StatefulSet langconnect-postgres, stopped first")));
    // prod backs up before a change that restarts its database: the move was one.
    assertThat(admin.events().v1().events().inNamespace(prodNs).list().getItems())
        .anySatisfy(e -> assertThat(e.getNote()).contains("Deployment langconnect-postgres gives way to StatefulSet"));
    eventually("LangConnect of prod answers through its Service", () -> answersThroughService(prodNs));
  }

  @Test
  @Order(9)
  void aDeletedNamespaceIsHeldAndComesBackOnItsRetainedVolumeWithTheData() throws Exception {
    var claim = admin.persistentVolumeClaims().inNamespace(prodNs).withName("langconnect-postgres").get();
    String volume = claim.getSpec().getVolumeName();
    eventually("prod's data volume retained by the controller", () -> "Retain".equals(
        admin.persistentVolumes().withName(volume).get().getSpec().getPersistentVolumeReclaimPolicy()));
    assertThat(admin.events().v1().events().inNamespace(prodNs).list().getItems())
        .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("VolumeReclaimPolicySet"));

    long deleted = System.nanoTime();
    admin.namespaces().withName(prodNs).delete();
    plane.awaitNamespaceGone(prodNs);
    long gone = System.nanoTime();
    assertThat(admin.persistentVolumes().withName(volume).get().getStatus().getPhase()).isEqualTo("Released");
    eventually("the controller holds prod instead of starting it empty", STARTUP, () -> {
      JsonObject status = api("/api/v1/environments/prod");
      return "Held".equals(status.getString("result")) && status.getString("message", "").contains("is gone");
    });
    long held = System.nanoTime();
    assertThat(admin.namespaces().withName(prodNs).get()).as("nothing applied while held").isNull();

    // The README's steps: bind the retained volume to the claim again, then let the sync make the claim.
    kubectl("patch", "pv", volume, "--type", "json", "-p",
        "[{\"op\":\"remove\",\"path\":\"/spec/claimRef/uid\"},{\"op\":\"remove\",\"path\":\"/spec/claimRef/resourceVersion\"}]");
    CliTest.Run confirm = CliTest.run("confirm-new-database", "--env", "prod", "--values", values.toString(),
        "--kubeconfig", plane.kubeconfig());
    assertThat(confirm.exit()).as(confirm.err()).isZero();
    onNode(prodNs, "prod's database back, on the same volume", () -> databaseAvailable(prodNs));
    System.out.printf("deleted namespace: gone after %d ms, held %d ms later, the database back %d ms after that%n",
        (gone - deleted) / 1_000_000, (held - gone) / 1_000_000, (System.nanoTime() - held) / 1_000_000);
    assertThat(admin.persistentVolumeClaims().inNamespace(prodNs).withName("langconnect-postgres").get().getSpec()
        .getVolumeName()).isEqualTo(volume);
    assertThat(query(prodNs, "SELECT note FROM migration_marker").getString(0)).isEqualTo("written under the Deployment");
  }

  @Test
  @Order(10)
  void backupsGoToTheObjectStoreCheckedAndRotatedInTheEnvironmentsOwnFolderOnly() throws Exception {
    String bucket = plane.setting("S3_BUCKET");
    String uploader = plane.setting("NODE_BACKUP_UPLOADER_IMAGE");
    createStoreSecret();
    prodBackup = """
        backup:
          retention: 2
          objectStore:
            destinationPath: s3://%s/e2e-%s
            endpointURL: %s
            s3Credentials:
              accessKeyId: {name: backup-s3, key: ACCESS_KEY_ID}
              secretAccessKey: {name: backup-s3, key: ACCESS_SECRET_KEY}
            uploader:
              image: {repository: %s, tag: "%s", pullPolicy: IfNotPresent}
        """.formatted(bucket, prodNs, plane.setting("S3_ENDPOINT"), uploader.split(":")[0], uploader.split(":")[1]);
    writeValues();
    copyValuesToRepo();
    String revision = repo.commitAndPush("prod backs up to the object store");
    eventually("prod synced with its backups going off the cluster", STARTUP, () -> revision.equals(
        api("/api/v1/environments/prod").getString("revision")) && admin.batch().v1().cronjobs().inNamespace(prodNs)
        .withName("langconnect-postgres-backup").get().getSpec().getJobTemplate().getSpec().getTemplate().getSpec()
        .getContainers().get(0).getName().equals("upload"));

    // Beside prod's dumps: something else in its folder, and another environment's dump of the same name pattern.
    Path folder = Path.of(plane.setting("S3_ROOT"), bucket, "e2e-" + prodNs);
    Files.createDirectories(folder.resolve("prod"));
    Files.createDirectories(folder.resolve("staging"));
    Files.writeString(folder.resolve("prod/README.txt"), "not a dump");
    Files.writeString(folder.resolve("staging/postgres-20200101T000000Z.dump"), "another environment's");

    // About 100 MB of data that does not compress away, for the upload's figure.
    query(prodNs, "CREATE TABLE e2e_filler AS SELECT i, md5(random()::text) || md5(random()::text) AS a,"
        + " md5(random()::text) || md5(random()::text) AS b FROM generate_series(1, 700000) i");
    long databaseBytes = query(prodNs, "SELECT pg_database_size('postgres') AS size").getLong(0);
    for (int i = 0; i < 3; i++) {
      long started = System.nanoTime();
      CliTest.Run backup = CliTest.run("backup", "--env", "prod", "--values", values.toString(), "--kubeconfig",
          plane.kubeconfig());
      assertThat(backup.exit()).as(backup.err()).isZero();
      awaitJob(prodNs, backup.out().strip());
      if (i == 0) {
        String log = kubectl("-n", prodNs, "logs", "job/" + backup.out().strip(), "-c", "upload");
        System.out.printf("backup of a %d MB database to the object store: %d ms from `backup` to the Job's completion;"
            + " upload log: %s%n", databaseBytes / 1_000_000, (System.nanoTime() - started) / 1_000_000, log.strip());
        query(prodNs, "DROP TABLE e2e_filler");
      }
      Thread.sleep(1_100); // dumps are named to the second
    }
    try (Stream<Path> files = Files.list(folder.resolve("prod"))) {
      assertThat(files.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList())
          .as("retention 2 over 3 uploads, and what is not a dump of prod kept").hasSize(3).contains("README.txt")
          .filteredOn(n -> n.endsWith(".dump")).hasSize(2).allMatch(n -> n.matches("postgres-\\d{8}T\\d{6}Z\\.dump"));
    }
    assertThat(folder.resolve("staging/postgres-20200101T000000Z.dump")).as("another environment's folder").exists();
    assertThat(admin.persistentVolumeClaims().inNamespace(prodNs).withName("langconnect-postgres-backups").get())
        .as("the backups claim no longer rendered is kept: claims are never pruned").isNotNull();
    eventually("the upload is exported by the leader", () -> onTheLeader(scrape ->
        value(scrape, "langconnect_backup_upload_size_bytes", prodNs) > 0
            && value(scrape, "langconnect_backup_object_store_age_seconds", prodNs) < 600));
    // No credential in what a user reads: the CronJob, the Jobs' logs, the Events.
    String secret = plane.setting("S3_SECRET_ACCESS_KEY");
    assertThat(kubectl("-n", prodNs, "get", "cronjobs,jobs,events", "-o", "yaml")).doesNotContain(secret);
  }

  @Test
  @Order(11)
  void theDisasterDrillBringsProdBackFromTheBucketAfterItsNamespaceIsGone() throws Exception {
    addDocuments(prodNs, "drill", 7);
    String checksum = embeddingsChecksum();
    CliTest.Run backup = CliTest.run("backup", "--env", "prod", "--values", values.toString(), "--kubeconfig",
        plane.kubeconfig());
    assertThat(backup.exit()).as(backup.err()).isZero();
    awaitJob(prodNs, backup.out().strip());

    long started = System.nanoTime();
    admin.namespaces().withName(prodNs).delete(); // claims, backups claim and Secrets with it
    plane.awaitNamespaceGone(prodNs);
    long gone = System.nanoTime();
    eventually("held, not started empty", STARTUP, () -> "Held".equals(api("/api/v1/environments/prod").getString("result")));
    // The cluster's copies are gone with the namespace: a new, empty database, then the dump from the bucket.
    CliTest.Run confirm = CliTest.run("confirm-new-database", "--env", "prod", "--values", values.toString(),
        "--kubeconfig", plane.kubeconfig());
    assertThat(confirm.exit()).as(confirm.err()).isZero();
    eventually("the namespace made again by the sync", STARTUP, () -> admin.namespaces().withName(prodNs).get() != null);
    createStoreSecret();
    onNode(prodNs, "prod's new, empty database available and its backup CronJob made", () -> databaseAvailable(prodNs)
        && admin.batch().v1().cronjobs().inNamespace(prodNs).withName("langconnect-postgres-backup").get() != null);
    long available = System.nanoTime();
    CliTest.Run restore = CliTest.run("restore", "--env", "prod", "--backup", "latest", "--confirm", "--values",
        values.toString(), "--kubeconfig", plane.kubeconfig());
    assertThat(restore.exit()).as(restore.err()).isZero();
    awaitJob(prodNs, restore.out().strip());
    assertThat(embeddingsChecksum()).as("ids, vectors, documents and metadata, from the bucket").isEqualTo(checksum);
    long restored = System.nanoTime();
    System.out.printf("disaster drill: %d ms from deleting prod's namespace to its data restored from the bucket"
        + " (the namespace gone after %d ms, the new database available %d ms later, the guarded restore %d ms)%n%s",
        (restored - started) / 1_000_000, (gone - started) / 1_000_000, (available - gone) / 1_000_000,
        (restored - available) / 1_000_000, restore.err());
  }

  @Test
  @Order(12)
  void aRemovedStagingFileRestoredComesBackOnItsClaimWithItsGeneratedPasswordAndLangConnectWritesAgain()
      throws Exception {
    // Staging on a claim, its password generated by the controller (none in git): the case a prune used to break.
    stagingPostgres = "postgres:\n  persistence: {enabled: true, size: 1Gi}\n";
    stagingExtra = "";
    writeValues();
    copyValuesToRepo();
    repo.commitAndPush("staging keeps its data on a claim, with a generated password");
    onNode(stagingNs, "staging's database on its claim and LangConnect available", () -> databaseAvailable(stagingNs)
        && available(stagingNs, "langconnect-langconnect", 1) && admin.persistentVolumeClaims().inNamespace(stagingNs)
        .withName("langconnect-postgres").get() != null && podOrNull(stagingNs, Labels.POSTGRES) != null
        && podOrNull(stagingNs, Labels.POSTGRES).getSpec().getVolumes().stream()
        .anyMatch(v -> v.getPersistentVolumeClaim() != null));
    eventually("staging's LangConnect answers through its Service", () -> answersThroughService(stagingNs));
    addDocuments(stagingNs, "kept", 4);
    String password = stagingPassword();

    repo.delete("values-staging.yaml").commitAndPush("staging removed by accident");
    onNode(stagingNs, "staging pruned (a non-production environment: at once)", () ->
        admin.apps().statefulSets().inNamespace(stagingNs).list().getItems().isEmpty()
            && podOrNull(stagingNs, Labels.POSTGRES) == null);
    assertThat(stagingPassword()).as("the generated password is kept with the claim").isEqualTo(password);

    copyValuesToRepo();
    repo.commitAndPush("staging restored");
    onNode(stagingNs, "staging back on its claim", () -> databaseAvailable(stagingNs)
        && available(stagingNs, "langconnect-langconnect", 1));
    eventually("staging's LangConnect answers through its Service", () -> answersThroughService(stagingNs));
    addDocuments(stagingNs, "kept", 1); // LangConnect logs in to its own data again
    assertThat(query(stagingNs, "SELECT count(*) FROM langchain_pg_embedding e JOIN langchain_pg_collection c"
        + " ON e.collection_id = c.uuid WHERE coalesce(c.cmetadata->>'name', c.name) = 'kept'").getLong(0)).isEqualTo(5);
  }

  @Test
  @Order(13)
  void anExternalDatabaseServesLangConnectAndIsObservedBackedUpAndRestoredWithNoDatabaseOfOurs() throws Exception {
    // The test environment's PostgreSQL (pgvector built in), which pods reach on the node's address: a database the
    // team runs, owned by a role that is not superuser, as on a managed service.
    externalDatabase = plane.newDatabase();
    externalRole = externalDatabase + "_app";
    Pool superuser = plane.pool(externalDatabase);
    try {
      await(superuser.query("CREATE ROLE " + externalRole + " LOGIN PASSWORD '" + EXTERNAL_PASSWORD + "'").execute());
      await(superuser.query("ALTER DATABASE " + externalDatabase + " OWNER TO " + externalRole).execute());
      await(superuser.query("ALTER SCHEMA public OWNER TO " + externalRole).execute());
    } finally {
      superuser.close();
    }
    analyticsNs = plane.uniqueNamespace("e2e-analytics");
    admin.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(analyticsNs)
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGER).endMetadata().build()).create();
    admin.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("analytics-db")
        .withNamespace(analyticsNs).endMetadata().addToStringData("postgres-password", EXTERNAL_PASSWORD).build()).create();
    analyticsPort = plane.setting("PGPORT");
    writeValues();
    copyValuesToRepo();
    repo.commitAndPush("analytics on the team's own PostgreSQL");
    onNode(analyticsNs, "analytics' LangConnect available, its database answering", () ->
        available(analyticsNs, "langconnect-langconnect", 1));
    eventually("analytics Ready in the status API", STARTUP, () -> api("/api/v1/environments/analytics")
        .getJsonObject("health", new JsonObject()).getString("status", "").equals("Ready"));
    assertThat(admin.apps().statefulSets().inNamespace(analyticsNs).list().getItems()).as("no database of ours").isEmpty();
    assertThat(admin.services().inNamespace(analyticsNs).withName("langconnect-postgres").get()).isNull();
    assertThat(admin.persistentVolumeClaims().inNamespace(analyticsNs).withName("langconnect-postgres").get()).isNull();

    eventually("analytics' LangConnect answers through its Service", () -> answersThroughService(analyticsNs));
    addDocuments(analyticsNs, "external", 6);
    assertThat(externalQuery("SELECT count(*) FROM langchain_pg_embedding").getLong(0)).as("rows in the team's database")
        .isEqualTo(6);
    eventually("the leader observes the external database", STARTUP, () -> onTheLeader(scrape ->
        value(scrape, "langconnect_postgres_up", analyticsNs) == 1 && value(scrape, "langconnect_api_up", analyticsNs) == 1
            && value(scrape, "langconnect_vector_collection_embeddings", analyticsNs, "collection=\"external\"") == 6));

    // A scheduled-style backup against the external host, and a restore from it after the table is gone.
    String checksum = externalChecksum();
    CliTest.Run backup = CliTest.run("backup", "--env", "analytics", "--values", values.toString(), "--kubeconfig",
        plane.kubeconfig());
    assertThat(backup.exit()).as(backup.err()).isZero();
    awaitJob(analyticsNs, backup.out().strip());
    try (Stream<Path> files = Files.list(hostFolderOf(analyticsNs, "langconnect-postgres-backups"))) {
      assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".dump")).toList())
          .singleElement().asString().matches(externalDatabase + "-\\d{8}T\\d{6}Z\\.dump");
    }
    // pg_restore 17 (the shared postgres.image) writes a setting PostgreSQL 15 refuses: said before anything is touched.
    CliTest.Run refused = CliTest.run("restore", "--env", "analytics", "--backup", "latest", "--confirm", "--values",
        values.toString(), "--kubeconfig", plane.kubeconfig());
    assertThat(refused.exit()).isNotZero();
    String job = refused.out().strip();
    assertThat(kubectl("-n", analyticsNs, "logs", "job/" + job, "--all-containers")).contains("pg_restore 17 cannot"
        + " restore into PostgreSQL 15 (it writes settings an older server refuses); expected postgres.image of"
        + " PostgreSQL 15; nothing was restored");
    assertThat(externalChecksum()).as("untouched by the refused restore").isEqualTo(checksum);
    analyticsImage = plane.setting("NODE_POSTGRES_CLIENT_IMAGE");
    writeValues();
    copyValuesToRepo();
    String revision = repo.commitAndPush("analytics' client tools of its server's major version");
    eventually("analytics synced with its server's client tools", STARTUP, () -> revision.equals(
        api("/api/v1/environments/analytics").getString("revision")) && available(analyticsNs, "langconnect-langconnect", 1));
    CliTest.Run again = CliTest.run("backup", "--env", "analytics", "--values", values.toString(), "--kubeconfig",
        plane.kubeconfig());
    assertThat(again.exit()).as(again.err()).isZero();
    awaitJob(analyticsNs, again.out().strip());
    Thread.sleep(1_100); // dumps are named to the second
    externalQuery("DROP TABLE langchain_pg_embedding");
    CliTest.Run restore = CliTest.run("restore", "--env", "analytics", "--backup", "latest", "--confirm", "--values",
        values.toString(), "--kubeconfig", plane.kubeconfig());
    assertThat(restore.exit()).as(restore.err()).isZero();
    awaitJob(analyticsNs, restore.out().strip());
    assertThat(externalChecksum()).as("ids, vectors, documents and metadata").isEqualTo(checksum);

    // A dump made elsewhere (custom format, its vector extension in it) streams in through a client pod of ours.
    Path dump = tmp.resolve("external.dump");
    var pg = plane.postgres(externalDatabase);
    run(List.of("pg_dump", "--format=custom", "-h", pg.getHost(), "-p", String.valueOf(pg.getPort()), "-U", pg.getUser(),
        "-f", dump.toString(), externalDatabase));
    externalQuery("DROP TABLE langchain_pg_embedding");
    CliTest.Run imported = CliTest.run("restore", "--env", "analytics", "--from-file", dump.toString(), "--confirm",
        "--values", values.toString(), "--kubeconfig", plane.kubeconfig());
    assertThat(imported.exit()).as(imported.out() + imported.err()).isZero();
    assertThat(externalChecksum()).as("imported through the client pod").isEqualTo(checksum);
    assertThat(admin.pods().inNamespace(analyticsNs).list().getItems()).as("the import pod is removed")
        .noneMatch(p -> p.getMetadata().getName().contains("-import-") && p.getMetadata().getDeletionTimestamp() == null);

    // A database that does not answer: the environment says so, and is Ready again once it does.
    analyticsPort = "1";
    writeValues();
    copyValuesToRepo();
    repo.commitAndPush("analytics pointed at a port nothing listens on");
    eventually("analytics says its database does not answer", STARTUP, () -> api("/api/v1/environments/analytics")
        .getJsonObject("health", new JsonObject()).getString("message", "").contains("the external database does not"
            + " answer pg_isready"));
    analyticsPort = plane.setting("PGPORT");
    writeValues();
    copyValuesToRepo();
    repo.commitAndPush("analytics back on its database");
    eventually("analytics Ready again", STARTUP, () -> api("/api/v1/environments/analytics")
        .getJsonObject("health", new JsonObject()).getString("status", "").equals("Ready"));
    addDocuments(analyticsNs, "external", 1);
    assertThat(externalQuery("SELECT count(*) FROM langchain_pg_embedding").getLong(0)).isEqualTo(7);
  }

  /** Runs one statement on {@code pool}, then closes it: the first row, or null. */
  private static Row firstRow(Pool pool, String sql) {
    try {
      var rows = await(pool.query(sql).execute());
      return rows.size() == 0 ? null : rows.iterator().next();
    } finally {
      pool.close();
    }
  }

  /** The md5 of every embedding's id, vector, document and metadata, in id order. */
  private static final String EMBEDDINGS_CHECKSUM = "SELECT md5(string_agg(id || '|' || embedding::text || '|' || document"
      + " || '|' || cmetadata::text, ',' ORDER BY id)) AS sum FROM langchain_pg_embedding";

  /** A statement on the external database, as its superuser over loopback. */
  private Row externalQuery(String sql) {
    Pool pool = plane.pool(externalDatabase);
    return firstRow(pool, sql);
  }

  private String externalChecksum() {
    return externalQuery(EMBEDDINGS_CHECKSUM).getString(0);
  }

  @Test
  @Order(14)
  void cloudnativePgRunsTwoInstancesFailsOverLosingNoCommittedRowAndRecoversToAPointInTime() throws Exception {
    vectorsNs = plane.uniqueNamespace("e2e-vectors");
    admin.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(vectorsNs)
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGER).endMetadata().build()).create();
    createStoreSecret(vectorsNs);
    writeValues();
    copyValuesToRepo();
    long started = System.nanoTime();
    repo.commitAndPush("vectors on CloudNativePG, two instances");
    eventually("vectors Ready: both instances and LangConnect", STARTUP, () -> api("/api/v1/environments/vectors")
        .getJsonObject("health", new JsonObject()).getString("status", "").equals("Ready"));
    System.out.printf("cloudnative-pg: %d ms from the commit to a healthy Cluster of two and LangConnect Ready%n",
        (System.nanoTime() - started) / 1_000_000);
    eventually("vectors' LangConnect answers through its Service", () -> answersThroughService(vectorsNs));
    addDocuments(vectorsNs, "replicated", 5);
    assertThat(vectorsQuery("SELECT count(*) FROM langchain_pg_embedding").getLong(0)).isEqualTo(5);
    eventually("the leader observes the Cluster's primary", STARTUP, () -> onTheLeader(scrape ->
        value(scrape, "langconnect_postgres_up", vectorsNs) == 1
            && value(scrape, "langconnect_vector_collection_embeddings", vectorsNs, "collection=\"replicated\"") == 5));

    // The primary's pod deleted: a replica is promoted, -rw follows it, LangConnect writes again.
    String primary = clusterStatus().getString("currentPrimary");
    long deleted = System.nanoTime();
    admin.pods().inNamespace(vectorsNs).withName(primary).delete();
    eventually("a new primary", STARTUP, () -> !primary.equals(clusterStatus().getString("currentPrimary", primary)));
    eventually("LangConnect writes again", STARTUP, () -> {
      try {
        addDocuments(vectorsNs, "replicated", 1);
        return true;
      } catch (Exception | AssertionError e) {
        return false;
      }
    });
    long writing = System.nanoTime();
    System.out.printf("cloudnative-pg failover: %d ms from deleting the primary %s to LangConnect's next write"
        + " (new primary %s)%n", (writing - deleted) / 1_000_000, primary, clusterStatus().getString("currentPrimary"));
    assertThat(vectorsQuery("SELECT count(*) FROM langchain_pg_embedding").getLong(0)).as("no committed row lost")
        .isEqualTo(6);
    eventually("vectors Ready again, two instances", STARTUP, () -> api("/api/v1/environments/vectors")
        .getJsonObject("health", new JsonObject()).getString("status", "").equals("Ready"));

    // Point in time: a base backup, the time noted, the table dropped; the WAL past the drop archived by a second one.
    backupNow("before");
    String checksum = vectorsChecksum("langconnect-postgres");
    Thread.sleep(1_100);
    String time = vectorsQuery("langconnect-postgres", "SELECT to_char(date_trunc('second', now()) AT TIME ZONE 'UTC',"
        + " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS t").getString(0);
    Thread.sleep(1_100);
    vectorsQuery("langconnect-postgres", "DROP TABLE langchain_pg_embedding");
    backupNow("after");
    long recovering = System.nanoTime();
    CliTest.Run recover = CliTest.run("restore", "--env", "vectors", "--to", time, "--values", values.toString(),
        "--kubeconfig", plane.kubeconfig());
    assertThat(recover.exit()).as(recover.out() + recover.err()).isEqualTo(1);
    String recovered = "langconnect-postgres-pitr-" + time.replaceAll("[^0-9]", "");
    assertThat(recover.out()).contains("Cluster " + recovered + " recovered to " + time + " and healthy");
    long healthy = System.nanoTime();
    assertThat(vectorsChecksum(recovered)).as("the rows as they were at " + time).isEqualTo(checksum);
    assertThat(vectorsQuery("langconnect-postgres", "SELECT to_regclass('langchain_pg_embedding') IS NULL AS gone")
        .getBoolean(0)).as("the environment's own Cluster is untouched until confirmed").isTrue();

    System.out.printf("cloudnative-pg point-in-time restore: %d ms from `restore --to` to a healthy recovered Cluster"
        + " of two%n", (healthy - recovering) / 1_000_000);
    CliTest.Run confirm = CliTest.run("restore", "--env", "vectors", "--to", time, "--confirm", "--values",
        values.toString(), "--kubeconfig", plane.kubeconfig());
    assertThat(confirm.exit()).as(confirm.out() + confirm.err()).isZero();
    onNode(vectorsNs, "LangConnect on the recovered Cluster", () -> available(vectorsNs, "langconnect-langconnect", 1)
        && admin.apps().deployments().inNamespace(vectorsNs).withName("langconnect-langconnect").get().getSpec()
        .getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .anyMatch(e -> e.getName().equals("POSTGRES_HOST") && (recovered + "-rw").equals(e.getValue())));
    // Until the old LangConnect pod has left the Service, a write may still reach it (and the old Cluster).
    eventually("LangConnect writes to the recovered Cluster", STARTUP, () -> {
      try {
        addDocuments(vectorsNs, "replicated", 1);
        return vectorsQuery(recovered, "SELECT count(*) FROM langchain_pg_embedding").getLong(0) >= 7;
      } catch (Exception | AssertionError e) {
        return false;
      }
    });
    assertThat(vectorsQuery(recovered, "SELECT count(*) FROM langchain_pg_embedding").getLong(0)).isEqualTo(7);
    System.out.printf("cloudnative-pg point-in-time restore: %d ms more to LangConnect writing there after --confirm%n",
        (System.nanoTime() - healthy) / 1_000_000);
    eventually("vectors Ready on the recovered Cluster", STARTUP, () -> api("/api/v1/environments/vectors")
        .getJsonObject("health", new JsonObject()).getString("status", "").equals("Ready"));
    assertThat(admin.genericKubernetesResources("postgresql.cnpg.io/v1", "Cluster").inNamespace(vectorsNs)
        .withName("langconnect-postgres").get()).as("the old Cluster is kept with its data").isNotNull();
  }

  /**
   * An on-demand base backup of vectors' Cluster with {@code backup}, waited for. It is refused while another backup
   * of the Cluster has not ended, as the ScheduledBackup's first may not have (after the failover CloudNativePG
   * retries it once WAL archiving works again): CloudNativePG names a backup by the second it starts, and two started
   * in the same second fail one of them (seen here before the refusal: barman's "exit status 4"). A second backup
   * right after this one is refused, naming it.
   */
  private void backupNow(String what) throws Exception {
    String[] backup = {"backup", "--env", "vectors", "--values", values.toString(), "--kubeconfig", plane.kubeconfig()};
    var started = new java.util.concurrent.atomic.AtomicReference<CliTest.Run>();
    onNode(vectorsNs, "backup " + what + " started", () -> {
      CliTest.Run run = CliTest.run(backup);
      started.set(run);
      assertThat(run.exit() == 0 || run.err().contains("has not ended")).as(run.out() + run.err()).isTrue();
      return run.exit() == 0;
    });
    String name = started.get().out().strip();
    CliTest.Run second = CliTest.run(backup);
    assertThat(second.exit()).as(second.out() + second.err()).isEqualTo(2);
    assertThat(second.err()).contains("Backup " + name + " (").contains("has not ended");
    onNode(vectorsNs, "backup " + what + " completed", () -> {
      var live = admin.genericKubernetesResources("postgresql.cnpg.io/v1", "Backup").inNamespace(vectorsNs).withName(name)
          .get();
      Object status = live == null ? null : live.getAdditionalProperties().get("status");
      String phase = status instanceof Map<?, ?> m ? String.valueOf(m.get("phase")) : "";
      assertThat(phase).as("backup " + name + ": " + status).isNotEqualTo("failed");
      return phase.equals("completed");
    });
  }

  private String vectorsChecksum(String cluster) {
    return vectorsQuery(cluster, EMBEDDINGS_CHECKSUM).getString(0);
  }

  private JsonObject clusterStatus() {
    var cluster = admin.genericKubernetesResources("postgresql.cnpg.io/v1", "Cluster").inNamespace(vectorsNs)
        .withName("langconnect-postgres").get();
    Object status = cluster == null ? null : cluster.getAdditionalProperties().get("status");
    @SuppressWarnings("unchecked")
    Map<String, Object> fields = status == null ? Map.of() : (Map<String, Object>) status;
    return new JsonObject(fields);
  }

  /** A statement on vectors' primary, as its application user (CloudNativePG's generated password). */
  private Row vectorsQuery(String sql) {
    return vectorsQuery("langconnect-postgres", sql);
  }

  private Row vectorsQuery(String cluster, String sql) {
    var secret = admin.secrets().inNamespace(vectorsNs).withName(cluster + "-app").get();
    String password = new String(java.util.Base64.getDecoder().decode(secret.getData().get("password")), StandardCharsets.UTF_8);
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(new PgConnectOptions()
        .setHost(serviceIp(vectorsNs, cluster + "-rw")).setPort(5432).setUser("app").setPassword(password)
        .setDatabase("app")).using(LocalControlPlane.vertx()).build();
    return firstRow(pool, sql);
  }

  @Test
  @Order(15)
  void theControllersLogsAreJsonLinesWithoutASecret() throws Exception {
    List<String> secrets = List.of(API_TOKEN, prodPassword, "prod-password-1", stagingPassword(),
        plane.setting("S3_SECRET_ACCESS_KEY"), EXTERNAL_PASSWORD);
    int lines = 0;
    for (Pod pod : admin.pods().inNamespace(CONTROLLER_NS).withLabel("app.kubernetes.io/name", "langconnect-gitops")
        .list().getItems()) {
      String log = admin.pods().inNamespace(CONTROLLER_NS).withName(pod.getMetadata().getName()).getLog();
      for (String line : log.lines().filter(l -> !l.isBlank()).toList()) {
        JsonObject parsed = new JsonObject(line); // every line one JSON object
        assertThat(parsed.getString("level")).isNotBlank();
        lines++;
      }
      for (String secret : secrets) assertThat(log).as("a secret in the logs of " + pod.getMetadata().getName())
          .doesNotContain(secret);
    }
    assertThat(lines).as("the whole run's log lines").isGreaterThan(50);
  }

  private String stagingPassword() {
    var secret = admin.secrets().inNamespace(stagingNs).withName("langconnect-postgres").get();
    return secret == null ? "" : new String(java.util.Base64.getDecoder().decode(secret.getData().get("postgres-password")),
        StandardCharsets.UTF_8);
  }

  /** The object store's credentials, as a user creates them in the environment's namespace. */
  private void createStoreSecret() {
    createStoreSecret(prodNs);
  }

  private void createStoreSecret(String namespace) {
    admin.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("backup-s3")
        .withNamespace(namespace).endMetadata().addToStringData("ACCESS_KEY_ID", plane.setting("S3_ACCESS_KEY_ID"))
        .addToStringData("ACCESS_SECRET_KEY", plane.setting("S3_SECRET_ACCESS_KEY")).build())
        .fieldManager("e2e").forceConflicts().serverSideApply();
  }

  /** The controller's status API through its Service (a standby passes it on to the leader). */
  private JsonObject api(String path) {
    try {
      HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
          .sendAsync(HttpRequest.newBuilder(URI.create("http://" + serviceIp(CONTROLLER_NS, "langconnect-gitops") + ":8080"
              + path)).timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + API_TOKEN).build(),
              HttpResponse.BodyHandlers.ofString())
          .get(15, TimeUnit.SECONDS);
      return response.statusCode() == 200 ? new JsonObject(response.body()) : new JsonObject();
    } catch (Exception e) {
      return new JsonObject();
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // The values, the repository and the overlay

  private void writeValues() throws Exception {
    String toleration = "  tolerations:\n    - {key: " + plane.setting("NODE_TAINT").split("=")[0]
        + ", operator: Exists, effect: NoSchedule}\n";
    String postgresImage = plane.setting("NODE_POSTGRES_IMAGE");
    String appImage = plane.setting("NODE_LANGCONNECT_IMAGE");
    Files.writeString(values.resolve("values.yaml"), """
        # The test node's own images: nothing is pulled.
        langconnect:
          image: {repository: %s, tag: "%s", pullPolicy: IfNotPresent}
        %spostgres:
          image: {repository: %s, tag: "%s", pullPolicy: IfNotPresent}
        %s""".formatted(appImage.split(":")[0], appImage.split(":")[1], toleration, postgresImage.split(":")[0],
        postgresImage.split(":")[1], toleration));
    Files.writeString(values.resolve("values-staging.yaml"), """
        namespace: %s
        """.formatted(stagingNs) + stagingPostgres + stagingExtra);
    Files.writeString(values.resolve("values-prod.yaml"), """
        namespace: %s
        postgres:
          auth: {password: %s}
          persistence: {enabled: true, size: 1Gi}
        """.formatted(prodNs, prodPassword) + prodBackup);
    if (vectorsNs != null) {
      String image = plane.setting("NODE_CNPG_POSTGRES_IMAGE");
      Files.writeString(values.resolve("values-vectors.yaml"), """
          namespace: %s
          postgres:
            engine: cloudnative-pg
            instances: 2
            image: {repository: %s, tag: "%s", pullPolicy: IfNotPresent}
            persistence: {size: 1Gi}
          langconnect:
            env:
              # libpq's: a connection attempt to a primary's pod that is gone fails fast instead of waiting for TCP.
              PGCONNECT_TIMEOUT: "5"
          backup:
            objectStore:
              destinationPath: s3://%s/e2e-%s
              endpointURL: %s
              s3Credentials:
                accessKeyId: {name: backup-s3, key: ACCESS_KEY_ID}
                secretAccessKey: {name: backup-s3, key: ACCESS_SECRET_KEY}
          """.formatted(vectorsNs, image.split(":")[0], image.split(":")[1], plane.setting("S3_BUCKET"), vectorsNs,
          plane.setting("S3_ENDPOINT")));
    }
    if (analyticsNs != null) {
      Files.writeString(values.resolve("values-analytics.yaml"), """
          namespace: %s
          backup:
            retention: 3
            storage: {size: 1Gi}
          postgres:
            engine: external
            external: {host: %s, port: %s, database: %s, username: %s, existingSecret: analytics-db}
          """.formatted(analyticsNs, plane.setting("NODE_IP"), analyticsPort, externalDatabase, externalRole)
          + (analyticsImage == null ? "" : "  image: {repository: %s, tag: \"%s\", pullPolicy: IfNotPresent}\n"
              .formatted(analyticsImage.split(":")[0], analyticsImage.split(":")[1])));
    }
  }

  private void copyValuesToRepo() throws Exception {
    for (String file : List.of("values.yaml", "values-staging.yaml", "values-prod.yaml", "values-analytics.yaml",
        "values-vectors.yaml")) {
      if (Files.exists(values.resolve(file))) repo.write(file, Files.readString(values.resolve(file)));
    }
  }

  /**
   * The chart as a user installs it, with values pointing the controller at the git daemon and at the node's image;
   * the chart's default config keys this run does not use (git credentials, GitHub's webhook) set to null, as a user
   * drops them. --take-ownership: ManifestsIT may have applied the same cluster-wide objects before.
   */
  private void helmInstall() throws Exception {
    String image = plane.setting("NODE_CONTROLLER_IMAGE");
    Path values = Files.writeString(tmp.resolve("helm-values.yaml"), """
        image:
          repository: %s
          tag: "%s"
        tolerations: [{key: %s, operator: Exists, effect: NoSchedule}]
        apiToken: {create: true, token: %s}
        config:
          git:
            url: %s
            interval: 2s
            path: null
            auth: null
          sync:
            databaseReadyTimeout: 3m
          webhooks: null
          observe:
            interval: 2s
            countInterval: 5s
          logging:
            format: json
        """.formatted(image.substring(0, image.lastIndexOf(':')), image.substring(image.lastIndexOf(':') + 1),
        plane.setting("NODE_TAINT").split("=")[0], API_TOKEN,
        repo.gitUrl().replace(plane.gitDaemonUrl(), plane.setting("GIT_DAEMON_NODE_URL"))));
    run(List.of(plane.setting("HELM"), "--kubeconfig", plane.kubeconfig(), "install", "langconnect-gitops",
        "charts/langconnect-gitops", "--namespace", CONTROLLER_NS, "--create-namespace", "--take-ownership",
        "--values", values.toString()));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Reaching the cluster, the databases and the controller

  private String kubectl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(plane.setting("KUBECTL"), "--kubeconfig", plane.kubeconfig()));
    command.addAll(List.of(args));
    return run(command);
  }

  private static String run(List<String> command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
      throw new AssertionError(String.join(" ", command) + " failed:\n" + output);
    }
    return output;
  }

  private static List<HasMetadata> load(Path file) throws Exception {
    Object parsed = YAML.unmarshal(new ByteArrayInputStream(Files.readAllBytes(file)));
    List<HasMetadata> out = new ArrayList<>();
    if (parsed instanceof List<?> list) list.forEach(o -> out.add((HasMetadata) o));
    else out.add((HasMetadata) parsed);
    return out;
  }

  /** Waits for what pods on the node do; on a timeout, says what the namespace's pods and events showed. */
  private void onNode(String namespace, String what, java.util.function.BooleanSupplier condition) throws Exception {
    try {
      eventually(what, STARTUP, condition);
    } catch (AssertionError timeout) {
      throw new AssertionError(timeout.getMessage() + "\n" + describe(namespace), timeout);
    }
  }

  private String describe(String namespace) {
    String pods = tryKubectl("-n", namespace, "get", "pods", "-o", "wide");
    String states = tryKubectl("-n", namespace, "get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name}"
        + " restarts={.status.containerStatuses[*].restartCount} last={.status.containerStatuses[*].lastState}{\"\\n\"}{end}");
    String events = tryKubectl("-n", namespace, "get", "events", "--sort-by=.lastTimestamp");
    String logs = tryKubectl("-n", namespace, "logs", "--all-containers", "--prefix", "--tail=30", "-l",
        "app.kubernetes.io/name");
    return pods + "\n" + states + "\n" + events + "\n" + logs;
  }

  private String tryKubectl(String... args) {
    try {
      return kubectl(args);
    } catch (Exception | AssertionError e) {
      return e.getMessage();
    }
  }

  /** The database's StatefulSet rolled out: its one pod of the current revision ready and available. */
  private boolean databaseAvailable(String namespace) {
    StatefulSet set = admin.apps().statefulSets().inNamespace(namespace).withName("langconnect-postgres").get();
    if (set == null || set.getStatus() == null || set.getStatus().getObservedGeneration() == null) return false;
    var status = set.getStatus();
    return status.getObservedGeneration() >= set.getMetadata().getGeneration()
        && java.util.Objects.equals(status.getCurrentRevision(), status.getUpdateRevision())
        && status.getAvailableReplicas() != null && status.getAvailableReplicas() == 1
        && status.getReplicas() != null && status.getReplicas() == 1;
  }

  private boolean available(String namespace, String name, int replicas) {
    Deployment d = admin.apps().deployments().inNamespace(namespace).withName(name).get();
    if (d == null || d.getStatus() == null || d.getStatus().getObservedGeneration() == null) return false;
    var status = d.getStatus();
    return status.getObservedGeneration() >= d.getMetadata().getGeneration()
        && status.getUpdatedReplicas() != null && status.getUpdatedReplicas() >= replicas
        && status.getAvailableReplicas() != null && status.getAvailableReplicas() >= replicas
        && (status.getReplicas() == null || status.getReplicas() == replicas);
  }

  private Pod podOrNull(String namespace, String component) {
    return admin.pods().inNamespace(namespace).withLabel(Labels.COMPONENT, component).list().getItems().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null).findFirst().orElse(null);
  }

  private Pod pod(String namespace, String component) {
    Pod pod = podOrNull(namespace, component);
    assertThat(pod).as(component + " pod in " + namespace).isNotNull();
    return pod;
  }

  private static boolean ready(Pod pod) {
    return pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static int restarts(Pod pod) {
    return pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null ? 0
        : pod.getStatus().getContainerStatuses().stream().mapToInt(s -> s.getRestartCount() == null ? 0 : s.getRestartCount()).sum();
  }

  private String exec(String namespace, Pod pod, String... command) throws Exception {
    List<String> args = new ArrayList<>(List.of("-n", namespace, "exec", pod.getMetadata().getName(), "--"));
    args.addAll(List.of(command));
    return kubectl(args.toArray(String[]::new)).strip();
  }

  private void awaitJob(String namespace, String name) throws InterruptedException {
    eventually("Job " + name + " completes", STARTUP, () -> {
      Job job = admin.batch().v1().jobs().inNamespace(namespace).withName(name).get();
      if (job == null || job.getStatus() == null || job.getStatus().getConditions() == null) return false;
      assertThat(job.getStatus().getConditions()).as("Job " + name).noneMatch(c -> "Failed".equals(c.getType())
          && "True".equals(c.getStatus()));
      return job.getStatus().getConditions().stream().anyMatch(c -> "Complete".equals(c.getType()) && "True".equals(c.getStatus()));
    });
  }

  /** Where the local-path provisioner keeps a claim's folder on the node (this machine). */
  private Path hostFolderOf(String namespace, String claim) {
    String volume = admin.persistentVolumeClaims().inNamespace(namespace).withName(claim).get().getSpec().getVolumeName();
    String path = admin.persistentVolumes().withName(volume).get().getSpec().getHostPath() != null
        ? admin.persistentVolumes().withName(volume).get().getSpec().getHostPath().getPath()
        : admin.persistentVolumes().withName(volume).get().getSpec().getLocal().getPath();
    return Path.of(path);
  }

  private String serviceIp(String namespace, String name) {
    return admin.services().inNamespace(namespace).withName(name).get().getSpec().getClusterIP();
  }

  /**
   * Runs one statement as a client would after a disruption: a connection refused, a Service whose new endpoint
   * kube-proxy has not programmed yet (no route to host) or a server still starting or stopping is retried for up
   * to a minute; anything else fails at once.
   */
  private Row query(String namespace, String sql) {
    return DatabaseSettling.retry(() -> queryOnce(namespace, sql));
  }

  private Row queryOnce(String namespace, String sql) {
    String password = namespace.equals(prodNs) ? prodPassword : stagingPassword();
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(new PgConnectOptions()
        .setHost(serviceIp(namespace, "langconnect-postgres")).setPort(5432).setUser("postgres").setPassword(password)
        .setDatabase("postgres")).using(LocalControlPlane.vertx()).build();
    return firstRow(pool, sql);
  }

  private String embeddingsChecksum() {
    return query(prodNs, EMBEDDINGS_CHECKSUM).getString(0);
  }

  /** LangConnect's /health through its Service says ok. */
  private boolean answersThroughService(String namespace) {
    try {
      return get("http://" + serviceIp(namespace, "langconnect-langconnect") + ":8080/health").body()
          .equals("{\"status\": \"ok\"}");
    } catch (Exception e) {
      return false;
    }
  }

  private void addDocuments(String namespace, String collection, int count) throws Exception {
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < count; i++) texts.add(collection + " document " + i + " " + System.nanoTime());
    HttpResponse<String> response = LangConnectClient.addDocuments(serviceIp(namespace, "langconnect-langconnect"),
        collection, texts, "e2e");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
  }


  /**
   * Bounded as a whole: the request timeout covers the headers only, and a kept-alive connection through a
   * Service can stall mid-body (a scrape hung a run for ten minutes).
   */
  private HttpResponse<String> get(String url) throws Exception {
    return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
        .sendAsync(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString())
        .get(15, TimeUnit.SECONDS);
  }

  /** GET /metrics of the controller in the cluster, through its Service. */
  /** Each ready replica's /metrics, read from its pod as Prometheus does; "" for one that did not answer. */
  private List<String> scrapes() {
    List<String> scrapes = new java.util.ArrayList<>();
    for (Pod pod : admin.pods().inNamespace(CONTROLLER_NS).withLabel("app.kubernetes.io/name", "langconnect-gitops")
        .list().getItems()) {
      if (!ready(pod)) continue;
      try {
        scrapes.add(get("http://" + pod.getStatus().getPodIP() + ":8080/metrics").body());
      } catch (Exception e) {
        scrapes.add("");
      }
    }
    return scrapes;
  }

  /** Whether the leader's /metrics meets {@code condition}: the Lease's holder is its pod's name and a suffix. */
  private boolean onTheLeader(java.util.function.Predicate<String> condition) {
    var lease = admin.leases().inNamespace(CONTROLLER_NS).withName("langconnect-gitops").get();
    String holder = lease == null || lease.getSpec().getHolderIdentity() == null ? "" : lease.getSpec().getHolderIdentity();
    for (Pod pod : admin.pods().inNamespace(CONTROLLER_NS).withLabel("app.kubernetes.io/name", "langconnect-gitops")
        .list().getItems()) {
      if (!ready(pod) || !holder.startsWith(pod.getMetadata().getName() + "-")) continue;
      try {
        return condition.test(get("http://" + pod.getStatus().getPodIP() + ":8080/metrics").body());
      } catch (Exception e) {
        return false;
      }
    }
    return false;
  }
}
