package io.langconnect.gitops.observe;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static io.langconnect.gitops.testenv.LocalControlPlane.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.render.YamlDocuments;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.PodOutcome;
import io.langconnect.gitops.testenv.TcpProxy;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user's Prometheus and Grafana get from a controller that has just synced {@code config/} as shipped: a
 * scrape that {@code promtool check metrics} passes, a series per environment behind every dashboard panel and
 * alert rule, and alert rules that fire (and stay quiet) on series shaped exactly as the live scrape shapes them,
 * held for up to 27 hours in {@code promtool test rules}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsContractIT {

  private static final Pattern METRIC = Pattern.compile("\\blangconnect_[a-z_]+");
  private static final Pattern TEMPLATE = Pattern.compile("\\{\\{ \\$labels\\.(\\w+) }}");
  private static final KubernetesSerialization YAML = new KubernetesSerialization();
  private static final List<String> ENVIRONMENTS = List.of("prod", "staging");
  /** 27 hours of one sample a minute, plus a little. */
  private static final int SAMPLES = 27 * 60 + 5;

  private final LocalControlPlane plane = new LocalControlPlane();
  private final HttpClient http = HttpClient.newHttpClient();
  private Vertx vertx;
  private Controller controller;
  private ValuesRepo repo;
  private TcpProxy stagingDatabase;
  private String prodNs;
  private String stagingNs;

  private Path tmp;

  @BeforeAll
  void syncTheShippedConfig(@TempDir Path tmp) throws Exception {
    this.tmp = tmp;
    stagingNs = plane.uniqueNamespace("it-metrics-staging");
    prodNs = plane.uniqueNamespace("it-metrics-prod");
    String stateNs = plane.uniqueNamespace("it-metrics-state");
    repo = ValuesRepo.create(plane, tmp.resolve("work"));
    try (Stream<Path> files = Files.list(Path.of("config"))) {
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith("values")).toList()) {
        String name = file.getFileName().toString();
        String namespace = name.equals("values-prod.yaml") ? prodNs : name.equals("values-staging.yaml") ? stagingNs : null;
        // Only the namespace is the test's own, so that runs never collide.
        repo.write(name, Files.readString(file) + (namespace == null ? "" : "\nnamespace: " + namespace + "\n"));
      }
    }
    repo.commitAndPush("config/ as shipped");
    // As values-prod.yaml's first lines tell its users: the password Secret is made before the first sync.
    plane.admin().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(prodNs).endMetadata().build())
        .create();
    plane.admin().resource(new SecretBuilder().withNewMetadata().withName("langconnect-postgres-auth")
        .withNamespace(prodNs).endMetadata().addToStringData("postgres-password", "from-the-operator").build()).create();
    plane.admin().resource(new SecretBuilder().withNewMetadata().withName("backup-s3").withNamespace(prodNs).endMetadata()
        .addToStringData("ACCESS_KEY_ID", "key-id").addToStringData("ACCESS_SECRET_KEY", "key-secret").build()).create();

    // Both databases hold LangChain's tables, as LangConnect makes them; only staging's vectors have an HNSW index.
    String stagingDb = plane.newDatabase();
    String prodDb = plane.newDatabase();
    plane.langchainCollections(stagingDb, "docs:user-1:60:8");
    plane.langchainCollections(prodDb, "handbook:user-1:200:8", "faq:user-2:50:8");
    Pool staging = plane.pool(stagingDb);
    await(staging.query("CREATE INDEX docs_hnsw ON langchain_pg_embedding USING hnsw ((embedding::vector(8)) vector_cosine_ops)")
        .execute());
    staging.close();
    for (String database : List.of(stagingDb, prodDb)) {
      Pool pool = plane.pool(database);
      await(pool.query("VACUUM ANALYZE").execute()); // what autovacuum does soon after LangConnect's first writes
      pool.close();
    }

    vertx = Vertx.vertx();
    HttpServer langconnect = await(vertx.createHttpServer()
        .requestHandler(r -> r.response().putHeader("Content-Type", "application/json").end("{\"status\":\"ok\"}"))
        .listen(0, "127.0.0.1"));
    var pg = plane.postgres(stagingDb);
    stagingDatabase = TcpProxy.start(vertx, pg.getHost(), pg.getPort());
    Path webhookSecret = Files.writeString(tmp.resolve("github-secret"), "metrics-contract");
    ControllerConfig config = new ControllerConfig(
        new ControllerConfig.Git(repo.gitUrl(), "main", ".", Duration.ofMillis(300), Duration.ofSeconds(5),
            tmp.resolve("clone").toString(), null),
        new ControllerConfig.Kubernetes(stateNs, null, false, "it-metrics", null),
        new ControllerConfig.Sync(Duration.ofMinutes(5), Duration.ZERO, 2, 3),
        new ControllerConfig.Http(0, "127.0.0.1", null),
        new ControllerConfig.Webhooks(new ControllerConfig.WebhookSecret(webhookSecret.toString(), null), null, null, null,
            null, null),
        new ControllerConfig.Observe(true, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), 50),
        Map.of(
            // staging's LangConnect answers; prod's does not (the LangConnectDown case).
            "staging", new ControllerConfig.DatabaseEndpoint("127.0.0.1", stagingDatabase.port(), stagingDb, "postgres",
                null, false, "http://127.0.0.1:" + langconnect.actualPort() + "/health"),
            "prod", new ControllerConfig.DatabaseEndpoint(pg.getHost(), pg.getPort(), prodDb, "postgres", null, false,
                "http://127.0.0.1:1/health")), null);
    controller = new Controller(vertx, plane.admin(), config);
    controller.start().await();
    eventually("both environments synced and observed", () -> {
      String scrape = scrape();
      return ENVIRONMENTS.stream().allMatch(env -> controller.board().get(env)
              .map(s -> s.result() == EnvironmentStatus.Result.SYNCED).orElse(false)
              && has(scrape, "langconnect_database_size_bytes", env)
              && has(scrape, "langconnect_vector_collection_embeddings", env)
              && has(scrape, "langconnect_vector_table_live_tuples", env)
              && has(scrape, "langconnect_api_up", env)
              && has(scrape, "langconnect_deployment_replicas", env))
          && has(scrape, "langconnect_backup_age_seconds", "prod")
          && has(scrape, "langconnect_vector_index_info", "staging");
    });
  }

  @AfterAll
  void stop() {
    if (controller != null) controller.close();
    if (vertx != null) vertx.close().await();
    if (repo != null) repo.close();
    plane.afterEach(null);
  }

  /**
   * GET /metrics, as Prometheus does, less the series of other tests' environments: the observer exports every
   * database managed in the cluster, and the shared control plane holds other tests' "prod" and "staging" too.
   */
  private String scrape() {
    try {
      String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + "/metrics"))
          .build(), HttpResponse.BodyHandlers.ofString()).body();
      return body.lines().filter(line -> {
        String namespace = line.startsWith("#") || line.isBlank() ? null
            : label(line.substring(0, line.lastIndexOf(' ')), "namespace");
        return namespace == null || namespace.equals(prodNs) || namespace.equals(stagingNs);
      }).collect(java.util.stream.Collectors.joining("\n", "", "\n"));
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  @Order(1)
  void aLiveScrapePassesPromtoolCheckMetrics() throws Exception {
    Process promtool = new ProcessBuilder(plane.promtool(), "check", "metrics").redirectErrorStream(true).start();
    promtool.getOutputStream().write(scrape().getBytes(StandardCharsets.UTF_8));
    promtool.getOutputStream().close();
    String findings = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(promtool.waitFor()).as(findings).isZero();
    assertThat(findings).as("promtool check metrics findings").isEmpty();
    assertThat(scrape().lines().filter(l -> l.startsWith("# HELP langconnect_")).toList())
        .as("every metric says what it measures").allMatch(l -> l.split(" ", 4).length == 4);
  }

  @Test
  @Order(2)
  void everyPanelAndAlertRuleHasASeriesForEveryEnvironmentItConcerns() throws Exception {
    String scrape = scrape();
    List<String> expressions = new ArrayList<>(dashboardExpressions());
    for (Map<String, Object> rule : alertRules()) expressions.add(String.valueOf(rule.get("expr")));
    assertThat(expressions).hasSizeGreaterThan(40);
    List<String> missing = new ArrayList<>();
    for (String expression : expressions) {
      // "a or b" has a series where either side has one; elsewhere every metric it names must have one.
      List<List<String>> gaps = Stream.of(expression.split("\\bor\\b")).map(side -> gaps(scrape, side)).toList();
      if (gaps.stream().noneMatch(List::isEmpty)) missing.add(expression + " lacks " + gaps.get(0));
    }
    assertThat(missing).as("dashboard or alert expressions without a series on the first scrape").isEmpty();
  }

  private static List<String> gaps(String scrape, String expression) {
    List<String> missing = new ArrayList<>();
    for (String name : metricNames(expression)) {
      switch (scope(name)) {
        case EVERY_ENVIRONMENT -> ENVIRONMENTS.stream().filter(env -> !has(scrape, name, env))
            .forEach(env -> missing.add(name + "{environment=\"" + env + "\"}"));
        // Only prod keeps backups in config/ (staging's database is an emptyDir).
        case ENVIRONMENTS_WITH_BACKUPS -> {
          if (!has(scrape, name, "prod")) missing.add(name + "{environment=\"prod\"}");
          if (has(scrape, name, "staging")) missing.add("unexpected " + name + "{environment=\"staging\"}");
        }
        // Tables, columns, indexes and collections are the database's own: they exist where the objects do.
        case PER_DATABASE_OBJECT, WITHOUT_ENVIRONMENT -> {
          if (scrape.lines().noneMatch(l -> l.startsWith(name + "{") || l.startsWith(name + " "))) missing.add(name);
        }
        case ONLY_DURING_AN_INDEX_BUILD -> { }
      }
    }
    return missing;
  }

  private enum Scope { EVERY_ENVIRONMENT, ENVIRONMENTS_WITH_BACKUPS, PER_DATABASE_OBJECT, WITHOUT_ENVIRONMENT,
    ONLY_DURING_AN_INDEX_BUILD }

  private static Scope scope(String name) {
    if (name.equals("langconnect_vector_index_build_progress_ratio")) return Scope.ONLY_DURING_AN_INDEX_BUILD;
    if (name.startsWith("langconnect_backup_")) return Scope.ENVIRONMENTS_WITH_BACKUPS;
    if (name.startsWith("langconnect_vector_")) return Scope.PER_DATABASE_OBJECT;
    if (name.startsWith("langconnect_git_") || name.startsWith("langconnect_webhook_requests")) {
      return Scope.WITHOUT_ENVIRONMENT;
    }
    return Scope.EVERY_ENVIRONMENT;
  }

  @Test
  @Order(3)
  void everyAlertRuleFiresAndStaysQuietOnSeriesShapedAsTheScrapeShapesThem() throws Exception {
    KubernetesClient admin = plane.admin();
    BackupService backups = new BackupService(admin);
    Snapshot synced = snapshot();

    String succeeded = backups.backupNow(prodNs, "prod");
    eventually("the backup Job's pod", () -> PodOutcome.finish(admin, prodNs, succeeded, true));
    eventually("the success is exported", () -> has(scrape(), "langconnect_backup_last_success_timestamp_seconds", "prod"));
    Snapshot backedUp = snapshot();

    Thread.sleep(1_000); // Job names carry the second they were made in.
    String failing = backups.backupNow(prodNs, "prod");
    // One failed pod fails the Job, without the Job controller's retry back-off.
    admin.batch().v1().jobs().inNamespace(prodNs).withName(failing)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"backoffLimit\":0}}");
    eventually("the failing Job's pod", () -> PodOutcome.finish(admin, prodNs, failing, false));
    eventually("the failure is exported", () -> value(scrape(), "langconnect_backup_last_job_failed", "prod") == 1.0);
    Snapshot failed = snapshot();

    String cron = backups.cronJob(prodNs, "prod").getMetadata().getName();
    admin.batch().v1().cronjobs().inNamespace(prodNs).withName(cron)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":true}}");
    eventually("the suspension is exported", () -> value(scrape(), "langconnect_backup_suspended", "prod") == 1.0);
    Snapshot suspended = snapshot();

    stagingDatabase.stop();
    eventually("staging's database is down", () -> value(scrape(), "langconnect_postgres_up", "staging") == 0.0);
    Snapshot stagingDown = snapshot();

    List<Object> tests = List.of(
        group("as synced: prod has never had a backup, prod's LangConnect does not answer", synced, Map.of(), List.of(
            quiet("25h", "LangConnectBackupMissing"),
            firing("27h", "LangConnectBackupMissing", synced, "langconnect_backup_age_seconds", "prod"),
            quiet("25h", "LangConnectBackupOffClusterMissing"),
            firing("27h", "LangConnectBackupOffClusterMissing", synced, "langconnect_backup_object_store_age_seconds",
                "prod"),
            quiet("4m", "LangConnectDown"),
            firing("6m", "LangConnectDown", synced, "langconnect_api_up", "prod"),
            quiet("3h", "LangConnectDatabaseDown"),
            quiet("3h", "LangConnectMetricsStale"),
            quiet("3h", "LangConnectSyncFailing"),
            quiet("8h", "LangConnectDatabaseGrowingFast"),
            quiet("1h", "LangConnectVectorColumnWithoutAnnIndex"),
            quiet("2h", "LangConnectBackupJobFailed"),
            quiet("2h", "LangConnectBackupSuspended"))),
        group("prod's database doubles in six hours and its vectors outgrow sequential scans; staging's collector"
                + " and syncs stop", synced, Map.of(
                series("langconnect_database_size_bytes", "prod"), v -> fmt(v) + "+" + fmt(v / 360) + "x" + SAMPLES,
                series("langconnect_vector_table_live_tuples", "prod"), v -> "150000x" + SAMPLES,
                series("langconnect_collector_last_success_timestamp_seconds", "staging"), v -> frozen(synced, v),
                series("langconnect_sync_last_success_timestamp_seconds", "staging"), v -> frozen(synced, v)),
            List.of(
                firing("8h", "LangConnectDatabaseGrowingFast", synced, "langconnect_database_size_bytes", "prod"),
                firing("40m", "LangConnectVectorColumnWithoutAnnIndex", synced,
                    "langconnect_vector_column_without_ann_index", "prod"),
                firing("11m", "LangConnectMetricsStale", synced, "langconnect_collector_last_success_timestamp_seconds",
                    "staging"),
                firing("75m", "LangConnectSyncFailing", synced, "langconnect_sync_last_success_timestamp_seconds",
                    "staging"))),
        group("a backup succeeded, then none for 27 hours", backedUp, Map.of(), List.of(
            quiet("26h", "LangConnectBackupMissing"),
            firing("27h", "LangConnectBackupMissing", backedUp, "langconnect_backup_age_seconds", "prod"),
            quiet("2h", "LangConnectBackupJobFailed"))),
        group("a backup succeeds every day", backedUp, Map.of(
                series("langconnect_backup_age_seconds", "prod"), v -> fmt(v) + "+60x1439 0+60x" + (SAMPLES - 1440)),
            List.of(quiet("27h", "LangConnectBackupMissing"))),
        group("a backup reaches the object store every day", backedUp, Map.of(
                series("langconnect_backup_object_store_age_seconds", "prod"),
                v -> fmt(v) + "+60x1439 0+60x" + (SAMPLES - 1440)),
            List.of(quiet("27h", "LangConnectBackupOffClusterMissing"))),
        group("the latest backup Job failed", failed, Map.of(), List.of(
            quiet("4m", "LangConnectBackupJobFailed"),
            firing("6m", "LangConnectBackupJobFailed", failed, "langconnect_backup_last_job_failed", "prod"))),
        group("prod's backup CronJob is suspended", suspended, Map.of(), List.of(
            quiet("59m", "LangConnectBackupSuspended"),
            firing("61m", "LangConnectBackupSuspended", suspended, "langconnect_backup_suspended", "prod"))),
        group("prod never becomes Ready, staging is", synced, Map.of(
                series("langconnect_environment_ready", "prod"), v -> "0x" + SAMPLES,
                series("langconnect_environment_ready", "staging"), v -> "1x" + SAMPLES),
            List.of(
                quiet("14m", "LangConnectEnvironmentNotReady"),
                firing("16m", "LangConnectEnvironmentNotReady", synced, "langconnect_environment_ready", "prod"))),
        group("staging stays suspended", synced, Map.of(
                series("langconnect_environment_suspended", "staging"), v -> "1x" + SAMPLES),
            List.of(
                quiet("23h", "LangConnectEnvironmentSuspended"),
                firing("25h", "LangConnectEnvironmentSuspended", synced, "langconnect_environment_suspended", "staging"))),
        group("staging's database stopped answering", stagingDown, Map.of(
                series("langconnect_collector_last_success_timestamp_seconds", "staging"), v -> frozen(stagingDown, v)),
            List.of(
                firing("3m", "LangConnectDatabaseDown", stagingDown, "langconnect_postgres_up", "staging"),
                firing("11m", "LangConnectMetricsStale", stagingDown,
                    "langconnect_collector_last_success_timestamp_seconds", "staging"))));

    Set<String> tested = new TreeSet<>();
    for (Object group : tests) {
      for (Object test : (List<?>) ((Map<?, ?>) group).get("alert_rule_test")) tested.add(String.valueOf(((Map<?, ?>) test).get("alertname")));
    }
    assertThat(tested).as("every alert rule is tested")
        .containsExactlyInAnyOrderElementsOf(alertRules().stream().map(r -> String.valueOf(r.get("alert"))).toList());

    Path rules = Files.writeString(tmp.resolve("rules.yaml"), YamlDocuments.yaml(alertSpec()));
    Path file = Files.writeString(tmp.resolve("alerts-test.yaml"), YamlDocuments.yaml(new TreeMap<>(Map.of(
        "rule_files", List.of(rules.toString()), "evaluation_interval", "1m", "tests", tests))));
    assertThat(promtool("check", "rules", rules.toString())).contains("SUCCESS: 12 rules found");
    assertThat(promtool("test", "rules", file.toString())).contains("SUCCESS");
  }

  // ---------------------------------------------------------------------------------------------------------
  // promtool test rules, from live scrapes

  /** A scrape and the moment it was taken (promtool's clock starts at 0: timestamps are made relative to it). */
  private record Snapshot(String scrape, long takenAt) {}

  private Snapshot snapshot() {
    return new Snapshot(scrape(), Instant.now().getEpochSecond());
  }

  private record SeriesKey(String metric, String environment) {}

  private static SeriesKey series(String metric, String environment) {
    return new SeriesKey(metric, environment);
  }

  /**
   * Every series an alert rule reads, exactly as scraped, held for 27 hours: timestamps move with the clock (a
   * healthy controller keeps them fresh), ages grow, everything else stays; {@code overrides} tell a different story.
   */
  private Map<String, Object> group(String name, Snapshot snapshot, Map<SeriesKey, java.util.function.DoubleFunction<String>> overrides,
                                    List<Map<String, Object>> alertTests) throws IOException {
    Set<String> read = new TreeSet<>();
    for (Map<String, Object> rule : alertRules()) read.addAll(metricNames(String.valueOf(rule.get("expr"))));
    List<Object> input = new ArrayList<>();
    for (String line : snapshot.scrape().lines().toList()) {
      if (line.startsWith("#") || line.isBlank()) continue;
      String selector = line.substring(0, line.lastIndexOf(' '));
      String metric = selector.contains("{") ? selector.substring(0, selector.indexOf('{')) : selector;
      double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      if (!read.contains(metric) || !Double.isFinite(value)) continue;
      var override = overrides.get(series(metric, label(selector, "environment")));
      String values = override != null ? override.apply(value)
          : metric.endsWith("_timestamp_seconds") ? fmt(value - snapshot.takenAt()) + "+60x" + SAMPLES
          : metric.endsWith("_age_seconds") ? fmt(value) + "+60x" + SAMPLES
          : fmt(value) + "x" + SAMPLES;
      input.add(new TreeMap<>(Map.of("series", selector, "values", values)));
    }
    return new TreeMap<>(Map.of("name", name, "interval", "1m", "input_series", input, "alert_rule_test", alertTests));
  }

  /** A timestamp that stops moving at the snapshot. */
  private static String frozen(Snapshot snapshot, double value) {
    return fmt(value - snapshot.takenAt()) + "x" + SAMPLES;
  }

  private static Map<String, Object> quiet(String at, String alert) {
    return new TreeMap<>(Map.of("eval_time", at, "alertname", alert, "exp_alerts", List.of()));
  }

  /** The alert fires once, with the labels of the scraped series it is about and its annotations filled in. */
  private Map<String, Object> firing(String at, String alert, Snapshot snapshot, String metric, String environment)
      throws IOException {
    Map<String, Object> rule = alertRules().stream().filter(r -> alert.equals(r.get("alert"))).findFirst().orElseThrow();
    String selector = snapshot.scrape().lines().filter(l -> l.startsWith(metric + "{"))
        .map(l -> l.substring(0, l.lastIndexOf(' '))).filter(s -> environment.equals(label(s, "environment")))
        .findFirst().orElseThrow(() -> new AssertionError("the scrape has no " + metric + " for " + environment));
    Map<String, String> labels = new TreeMap<>(labels(selector));
    @SuppressWarnings("unchecked")
    Map<String, String> ruleLabels = (Map<String, String>) rule.getOrDefault("labels", Map.of());
    labels.putAll(ruleLabels);
    Map<String, String> annotations = new TreeMap<>();
    @SuppressWarnings("unchecked")
    Map<String, String> templates = (Map<String, String>) rule.getOrDefault("annotations", Map.of());
    templates.forEach((key, template) -> {
      Matcher m = TEMPLATE.matcher(template);
      StringBuilder out = new StringBuilder();
      while (m.find()) m.appendReplacement(out, Matcher.quoteReplacement(labels.getOrDefault(m.group(1), "")));
      m.appendTail(out);
      annotations.put(key, out.toString());
    });
    return new TreeMap<>(Map.of("eval_time", at, "alertname", alert,
        "exp_alerts", List.of(new TreeMap<>(Map.of("exp_labels", labels, "exp_annotations", annotations)))));
  }

  private String promtool(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(plane.promtool()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(String.join(" ", command) + "\n" + output).isZero();
    return output;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Reading the dashboard, the rules and the scrape

  private static List<String> dashboardExpressions() throws IOException {
    List<String> out = new ArrayList<>();
    collectExpressions(new JsonObject(Files.readString(Path.of("dashboards/langconnect.json"))), out);
    return out;
  }

  private static void collectExpressions(Object node, List<String> out) {
    if (node instanceof JsonObject object) {
      object.forEach(entry -> {
        if (entry.getKey().equals("expr") && entry.getValue() instanceof String expr) out.add(expr);
        else collectExpressions(entry.getValue(), out);
      });
    } else if (node instanceof JsonArray array) {
      array.forEach(item -> collectExpressions(item, out));
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> alertSpec() throws IOException {
    Map<String, Object> rule = YAML.unmarshal(Files.readString(Path.of("manifests/alerts.yaml")), Map.class);
    return (Map<String, Object>) rule.get("spec");
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> alertRules() throws IOException {
    List<Map<String, Object>> rules = new ArrayList<>();
    for (Object group : (List<Object>) alertSpec().get("groups")) {
      rules.addAll((List<Map<String, Object>>) ((Map<String, Object>) group).get("rules"));
    }
    return rules;
  }

  private static Set<String> metricNames(String expression) {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(expression);
    while (m.find()) names.add(m.group());
    return names;
  }

  private static boolean has(String scrape, String metric, String environment) {
    return scrape.lines().anyMatch(l -> l.startsWith(metric + "{") && l.contains("environment=\"" + environment + "\""));
  }

  private static double value(String scrape, String metric, String environment) {
    return scrape.lines().filter(l -> l.startsWith(metric + "{") && l.contains("environment=\"" + environment + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(Double.NaN);
  }

  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private static Map<String, String> labels(String selector) {
    Map<String, String> labels = new LinkedHashMap<>();
    Matcher m = LABEL.matcher(selector.substring(selector.indexOf('{') + 1));
    while (m.find()) labels.put(m.group(1), m.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
    return labels;
  }

  private static String label(String selector, String name) {
    return selector.contains("{") ? labels(selector).get(name) : null;
  }

  private static String fmt(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : Double.toString(value);
  }
}
