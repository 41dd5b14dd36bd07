package io.langconnect.gitops.manifests;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.observe.MetricsExposition;
import io.langconnect.gitops.observe.ObserverVerticle;
import io.langconnect.gitops.observe.ServerVersions;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.SyncRecord;
import io.langconnect.gitops.sync.SyncService;
import io.langconnect.gitops.testenv.AuditLog;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.PreboundVolume;
import io.langconnect.gitops.values.NamespacePolicy;
import io.langconnect.gitops.values.ValuesFolder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * manifests/ as a user applies it, against the real API server: every object is accepted, and the controller,
 * running as the manifests' ServiceAccount (with a token bound to it), does its sync, prune, drift, backup,
 * metrics and leader-election work without a single 403, and uses every grant the RBAC gives it.
 */
@ExtendWith(LocalControlPlane.class)
class ManifestsIT {

  private static final String NS = "langconnect-gitops";
  private static final String SA = "system:serviceaccount:" + NS + ":langconnect-gitops";
  private static final KubernetesSerialization YAML = new KubernetesSerialization();

  private static List<HasMetadata> load(Path file) throws Exception {
    List<HasMetadata> out = new ArrayList<>();
    Object parsed = YAML.unmarshal(new ByteArrayInputStream(Files.readAllBytes(file)));
    if (parsed instanceof List<?> list) list.forEach(o -> out.add((HasMetadata) o));
    else out.add((HasMetadata) parsed);
    return out;
  }

  private static ValuesFolder.Environment env(String name, String yaml) {
    return ValuesFolder.load(Map.of("values-" + name + ".yaml", yaml), "").get(0);
  }

  @Test
  void everyManifestIsAcceptedAndTheControllerNeedsExactlyItsGrants(LocalControlPlane plane) throws Exception {
    plane.awaitNamespaceGone(NS); // NodeE2EIT installs the same manifests
    Instant started = Instant.now();
    KubernetesClient admin = plane.admin();
    for (HasMetadata crd : load(Path.of("src/test/resources/crds/monitoring-minimal.yaml"))) {
      admin.resource(crd).fieldManager("test").forceConflicts().serverSideApply();
    }
    eventually(() -> admin.apiextensions().v1().customResourceDefinitions().list().getItems().stream()
        .filter(c -> c.getSpec().getGroup().equals("monitoring.coreos.com"))
        .allMatch(c -> c.getStatus() != null && c.getStatus().getConditions() != null && c.getStatus().getConditions()
            .stream().anyMatch(cond -> "Established".equals(cond.getType()) && "True".equals(cond.getStatus()))));

    List<String> files = new ArrayList<>();
    Map<?, ?> kustomization = YAML.unmarshal(Files.readString(Path.of("manifests/kustomization.yaml")), Map.class);
    ((List<?>) kustomization.get("resources")).forEach(f -> files.add(String.valueOf(f)));
    try (var manifestsDir = Files.list(Path.of("manifests"))) {
      assertThat(manifestsDir.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml"))
          .filter(n -> !n.equals("kustomization.yaml")).sorted().toList())
          .as("every manifest is in kustomization.yaml").containsExactlyInAnyOrderElementsOf(files);
    }
    List<HasMetadata> applied = new ArrayList<>();
    for (String file : files) {
      for (HasMetadata object : load(Path.of("manifests", file))) {
        applied.add(admin.resource(object).fieldManager("kubectl").forceConflicts().serverSideApply());
      }
    }
    assertThat(applied).extracting(HasMetadata::getKind).contains("Namespace", "ServiceAccount", "ClusterRole",
        "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
        "ServiceMonitor", "PrometheusRule");

    try {
      String token = admin.serviceAccounts().inNamespace(NS).withName("langconnect-gitops")
          .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
          .getStatus().getToken();
      try (KubernetesClient controller = plane.client(plane.apiUrl(), token)) {
        runEveryPath(plane, admin, controller);
        assertGrantsAreExactlyUsed(plane, started);
        assertTheApiServerKeepsItToItsOwnNamespaces(plane, admin, controller);
      }
    } finally {
      admin.apps().deployments().inNamespace("kube-system").withName("intruder").delete(); // were it let in
      admin.namespaces().withName(NS).delete();
      admin.rbac().clusterRoleBindings().withName("langconnect-gitops").delete();
      admin.rbac().clusterRoles().withName("langconnect-gitops").delete();
      admin.rbac().clusterRoles().withName("langconnect-gitops-environment").delete();
      admin.admissionRegistration().v1().validatingAdmissionPolicyBindings()
          .withName("langconnect-gitops-managed-namespaces").delete();
      admin.admissionRegistration().v1().validatingAdmissionPolicies()
          .withName("langconnect-gitops-managed-namespaces").delete();
    }
  }

  /**
   * With the controller's own token, whatever its Java code would do: no write and no Secret read in kube-system or
   * in a namespace that does not carry its label, and no label of its own put on one. A sync into such a namespace
   * fails saying how to let the controller in.
   */
  private static void assertTheApiServerKeepsItToItsOwnNamespaces(LocalControlPlane plane, KubernetesClient admin,
                                                                  KubernetesClient controller) throws Exception {
    String foreign = plane.uniqueNamespace("it-rbac-foreign");
    admin.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName(foreign).endMetadata().build()).create();
    admin.resource(new SecretBuilder().withNewMetadata().withName("theirs").withNamespace(foreign).endMetadata()
        .addToStringData("password", "not-for-the-controller").build()).create();
    for (String ns : List.of("kube-system", foreign)) {
      var deployment = new io.fabric8.kubernetes.api.model.apps.DeploymentBuilder().withNewMetadata().withName("intruder")
          .withNamespace(ns).endMetadata().withNewSpec().withNewSelector().addToMatchLabels("app", "intruder").endSelector()
          .withNewTemplate().withNewMetadata().addToLabels("app", "intruder").endMetadata().withNewSpec()
          .addNewContainer().withName("c").withImage("registry.example.com/intruder").endContainer().endSpec()
          .endTemplate().endSpec().build();
      // The policy is enforced a moment after it is stored.
      eventually(() -> refusal(() -> controller.resource(deployment).create())
          .contains("writes only in namespaces labelled app.kubernetes.io/managed-by=langconnect-gitops"));
      assertThat(refusal(() -> controller.secrets().inNamespace(ns).list()))
          .as("listing Secrets in " + ns).startsWith("403");
      assertThat(refusal(() -> controller.secrets().inNamespace(ns).withName(ns.equals(foreign) ? "theirs"
          : "bootstrap-token-abcdef").get())).as("reading a Secret in " + ns).startsWith("403");
      assertThat(refusal(() -> controller.resource(new io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder()
          .withNewMetadata().withName("langconnect-gitops").withNamespace(ns).endMetadata()
          .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "langconnect-gitops-environment")
          .addNewSubject().withKind("ServiceAccount").withNamespace(NS).withName("langconnect-gitops").endSubject()
          .build()).create())).as("binding itself the Secret role in " + ns).contains("writes only in namespaces");
    }
    assertThat(refusal(() -> controller.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder()
        .withNewMetadata().withName(foreign + "-unlabelled").endMetadata().build()).create()))
        .contains("creates namespaces only with its managed-by label");
    assertThat(refusal(() -> controller.namespaces().withName(foreign).edit(n -> new io.fabric8.kubernetes.api.model
        .NamespaceBuilder(n).editMetadata().addToLabels("app.kubernetes.io/managed-by", "langconnect-gitops")
        .endMetadata().build()))).as("claiming a namespace it did not create").startsWith("403");

    NamespacePolicy policy = new NamespacePolicy(NamespacePolicy.DEFAULT_PATTERNS, NS);
    SyncService sync = new SyncService(SyncService.Cluster.of(controller, new Retry(1, Duration.ZERO, Duration.ZERO),
        policy, Optional.empty(), "rbac-test"), SyncRecord.NONE,
        new ControllerConfig.Sync(Duration.ofMinutes(5), Duration.ofSeconds(60), 2, 3), new ServerVersions());
    EnvironmentStatus status = sync.sync(env("foreign", "namespace: " + foreign + "\n"
        + "langconnect:\n  image:\n    repository: registry.example.com/langconnect\n" + "postgres:\n  auth:\n    password: foreign-password\n"), "r1", false);
    assertThat(status.result()).isEqualTo(EnvironmentStatus.Result.FAILED);
    assertThat(status.message()).contains("namespace " + foreign + " exists but is not managed by langconnect-gitops:"
        + " label it app.kubernetes.io/managed-by=langconnect-gitops");
    assertThat(status.message()).as("a refusal the user can act on, not an internal error").doesNotContain("unexpected");
    assertThat(admin.apps().deployments().inNamespace(foreign).list().getItems()).as("nothing written there").isEmpty();
    admin.namespaces().withName(foreign).delete();
  }

  /** The API server's answer to a request that must be refused: its code and message ("" when it was allowed). */
  private static String refusal(Runnable request) {
    try {
      request.run();
      return "";
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      return e.getCode() + " " + e.getMessage();
    }
  }

  private static void runEveryPath(LocalControlPlane plane, KubernetesClient admin, KubernetesClient controller)
      throws Exception {
    String staging = plane.uniqueNamespace("it-rbac-staging");
    String prod = plane.uniqueNamespace("it-rbac-prod");
    String slow = plane.uniqueNamespace("rbac-slow");
    String vectors = plane.uniqueNamespace("it-rbac-vectors");
    Retry retry = new Retry(3, Duration.ofMillis(50), Duration.ofMillis(200));
    NamespacePolicy policy = new NamespacePolicy(NamespacePolicy.DEFAULT_PATTERNS, NS);
    SyncService sync = new SyncService(SyncService.Cluster.of(controller, retry, policy, Optional.empty(), "rbac-test"),
        SyncRecord.NONE,
        new ControllerConfig.Sync(Duration.ofMinutes(5), Duration.ofSeconds(60), 2, 3), new ServerVersions());
    String image = "langconnect:\n  image:\n    repository: registry.example.com/langconnect\n";
    try (PodReadiness kubelet = PodReadiness.markReady(admin, "it-rbac")) {
      // Sync: everything created, including an autoscaler, a backup CronJob and PVCs.
      var first = List.of(
          env("staging", "namespace: " + staging + "\n" + image + "  autoscaling:\n    enabled: true\n"
              + "postgres:\n  auth:\n    password: staging\n"),
          env("prod", "namespace: " + prod + "\n" + image + "postgres:\n  persistence:\n    enabled: true\n"
              + "    storageClass: " + PreboundVolume.STORAGE_CLASS + "\n"));
      PreboundVolume.create(admin, prod + "-data", prod, "langconnect-postgres");
      for (var e : first) assertThat(sync.sync(e, "r1", false).result()).isEqualTo(EnvironmentStatus.Result.SYNCED);
      // prod is production: once its claim is bound, the volume under it is retained.
      eventually(() -> {
        sync.sync(first.get(1), "r1", false);
        return "Retain".equals(PreboundVolume.policy(admin, prod + "-data"));
      });

      // Drift: a deleted Service comes back.
      admin.services().inNamespace(staging).withName("langconnect-langconnect").delete();
      admin.services().inNamespace(staging).withName("langconnect-langconnect")
          .waitUntilCondition(s -> s == null, 30, TimeUnit.SECONDS);
      assertThat(sync.sync(first.get(0), "r1", false).objects())
          .anySatisfy(o -> assertThat(o.name() + ":" + o.action()).isEqualTo("langconnect-langconnect:created"));

      // Backup and restore Jobs.
      BackupService backups = new BackupService(controller);
      backups.backupNow(prod, "prod");
      backups.restoreFromBackups(first.get(1).values().get(), "latest");
      // A backup before a database change waits for its Job (nothing runs it here: the node takes no test pods).
      assertThatThrownBy(() -> backups.backupAndWait(prod, "prod", Duration.ofSeconds(1)))
          .hasMessageContaining("did not finish within 1s");

      // Prune: the autoscaler and the Secret go (staging brings its own Secret now); prod is removed whole.
      admin.resource(new SecretBuilder().withNewMetadata().withName("db").withNamespace(staging).endMetadata()
          .addToStringData("postgres-password", "from-a-secret").build()).create();
      var second = env("staging", "namespace: " + staging + "\n" + image
          + "postgres:\n  auth:\n    existingSecret: db\n  persistence:\n    enabled: true\n");
      assertThat(sync.sync(second, "r2", false).result()).isEqualTo(EnvironmentStatus.Result.SYNCED);
      assertThat(sync.removedEnvironments(List.of("staging"))).containsExactly("prod");
      // prod is production: its removal waits for a confirmation, written to the state namespace.
      assertThat(sync.pruneRemoved("prod", "r2", false, false).result()).isEqualTo(EnvironmentStatus.Result.PRUNE_HELD);
      sync.confirmPrune("prod");
      assertThat(sync.pruneRemoved("prod", "r2", false, false).result()).isEqualTo(EnvironmentStatus.Result.PRUNED);

      // An environment whose database never becomes ready: an Event says so.
      SyncService impatient = new SyncService(SyncService.Cluster.of(controller, retry, policy, Optional.empty(), "rbac-test"),
          SyncRecord.NONE,
          new ControllerConfig.Sync(Duration.ofMinutes(5), Duration.ofSeconds(1), 2, 3),
          new ServerVersions());
      assertThat(impatient.sync(env("slow", "namespace: " + slow + "\n" + image), "r1", false).result())
          .isEqualTo(EnvironmentStatus.Result.PROGRESSING);
      admin.persistentVolumes().withName(prod + "-data").delete(); // goes with its claim

      // CloudNativePG: a Cluster and its ScheduledBackup applied, then the object store dropped (the ScheduledBackup
      // pruned, the Cluster kept). Its pods stay off the node, as every pod of these tests.
      String cnpg = "namespace: " + vectors + "\n" + image + "postgres:\n  engine: cloudnative-pg\n  image: {tag: \"17\"}\n";
      String store = "backup:\n  objectStore:\n    destinationPath: s3://backups\n    s3Credentials:\n"
          + "      accessKeyId: {name: s3, key: id}\n      secretAccessKey: {name: s3, key: secret}\n";
      sync.sync(env("vectors", cnpg + store), "r1", false);
      // A backup now is CloudNativePG's Backup, refused while another of the Cluster has not ended: first the
      // ScheduledBackup's immediate one (pending: the Cluster's pods never run here), then our own.
      var cnpgBackups = admin.genericKubernetesResources("postgresql.cnpg.io/v1", "Backup").inNamespace(vectors);
      eventually(() -> !cnpgBackups.list().getItems().isEmpty());
      String scheduled = cnpgBackups.list().getItems().get(0).getMetadata().getName();
      assertThatThrownBy(() -> backups.start(vectors, "vectors")).hasMessageContaining("Backup " + scheduled + " (")
          .hasMessageContaining("has not ended");
      cnpgBackups.delete();
      eventually(() -> cnpgBackups.list().getItems().isEmpty());
      BackupService.Started started = backups.start(vectors, "vectors");
      assertThat(started.kind()).isEqualTo("Backup");
      assertThatThrownBy(() -> backups.start(vectors, "vectors")).hasMessageContaining("Backup " + started.name() + " (")
          .hasMessageContaining("has not ended");
      sync.sync(env("vectors", cnpg), "r2", false);
      assertThat(admin.genericKubernetesResources("postgresql.cnpg.io/v1", "ScheduledBackup").inNamespace(vectors)
          .list().getItems()).isEmpty();
      assertThat(admin.genericKubernetesResources("postgresql.cnpg.io/v1", "Cluster").inNamespace(vectors)
          .withName("langconnect-postgres").get()).isNotNull();
    }

    // Metrics and leader election, as the running controller does them.
    Vertx vertx = Vertx.vertx();
    try {
      MetricsExposition metrics = new MetricsExposition(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
      try (io.langconnect.gitops.apply.WorkloadCache workloads = new io.langconnect.gitops.apply.WorkloadCache(controller)) {
        LocalControlPlane.await(vertx.deployVerticle(new ObserverVerticle(controller, workloads,
            ControllerConfig.defaults(), metrics, new ServerVersions())));
        eventually(() -> scrape(metrics).contains("langconnect_deployment_replicas{"));
        // A namespace with a CloudNativePG Cluster is collected too (its Cluster once broke every metrics cycle).
        eventually(() -> scrape(metrics).lines().anyMatch(l -> l.startsWith("langconnect_deployment_replicas{")
            && l.contains("namespace=\"" + vectors + "\"")));
      }
      ControllerConfig config = ControllerConfig.defaults()
          .withGit(new ControllerConfig.Git("git://127.0.0.1:1/none.git", "main", ".", Duration.ofHours(1),
              Duration.ofSeconds(2), Files.createTempDirectory("rbac-git").toString(), null))
          .withHttp(new ControllerConfig.Http(0, "127.0.0.1", null))
          .withObserve(new ControllerConfig.Observe(false, null, null, null, null));
      try (Controller leader = new Controller(vertx, controller, config)) {
        leader.start().await();
        eventually(() -> leader.board().leader());
        Thread.sleep(5_000); // at least one renewal of the Lease
      }
    } finally {
      vertx.close().await();
    }
  }

  /** Reads the API server's audit log: which verbs the ServiceAccount used, and whether any was refused. */
  private static void assertGrantsAreExactlyUsed(LocalControlPlane plane, Instant since) throws Exception {
    AuditLog audit = AuditLog.of(plane.auditLog(), SA, since);
    assertThat(audit.forbidden()).as("requests the manifests' RBAC refused").isEmpty();
    assertThat(audit.used()).as("every grant is used by some path (an unused grant is a finding)")
        .containsAll(AuditLog.granted(load(Path.of("manifests/rbac.yaml"))));
  }

  /** What a scrape of /metrics serves. */
  private static String scrape(MetricsExposition metrics) {
    return metrics.scrape().toString(java.nio.charset.StandardCharsets.UTF_8);
  }
}
