package io.langconnect.gitops.observe;

import static io.langconnect.gitops.testenv.Eventually.eventually;
import static io.langconnect.gitops.testenv.LocalControlPlane.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.LogCapture;
import io.langconnect.gitops.values.NamespacePolicy;
import io.langconnect.gitops.values.ValuesFixture;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.sqlclient.Pool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector against real PostgreSQL + pgvector with tables made by LangChain's own PGVector store,
 * and a real API server holding the environments' Deployments. Exported values are compared with SQL.
 */
@ExtendWith(LocalControlPlane.class)
class ObserveIT {

  private static final String PASSWORD = "observe-secret-password";

  @TempDir
  Path tmp;

  /** Applied as a sync applies it, its inventory (in {@code stateNs}) placing it in {@code namespace}. */
  private static void deploy(LocalControlPlane plane, String env, String namespace, String stateNs) throws Exception {
    deploy(plane, env, namespace);
    new InventoryStore(plane.admin(), new NamespacePolicy(NamespacePolicy.DEFAULT_PATTERNS, stateNs),
        new Retry(3, Duration.ofMillis(50), Duration.ofMillis(200)))
        .write(new Inventory(env, namespace, "test", Map.of()));
  }

  private static void deploy(LocalControlPlane plane, String env, String namespace) throws Exception {
    var values = ValuesFixture.folder().env(env, """
        namespace: %s
        langconnect:
          image:
            repository: registry.example.com/langconnect
        postgres:
          auth:
            password: %s
        """.formatted(namespace, PASSWORD)).valid(env);
    new Applier(plane.admin(), new Retry(3, Duration.ofMillis(50), Duration.ofMillis(200)))
        .apply(env, namespace, StackRenderer.render(values, Optional.empty()), "test", Inventory.empty(env),
            new Applier.Options(false, Duration.ZERO));
  }

  private static String clusterIp(LocalControlPlane plane, String namespace, String service) {
    return plane.admin().services().inNamespace(namespace).withName(service).get().getSpec().getClusterIP();
  }

  private static double value(String scrape, String metric, String... labels) {
    for (String line : scrape.lines().toList()) {
      if (!line.startsWith(metric + "{")) continue;
      boolean all = true;
      for (String label : labels) all &= line.contains(label);
      if (all) return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
    return Double.NaN;
  }

  @Test
  void exportedValuesEqualTheSqlTruthAndAStoppedDatabaseReadsZero(LocalControlPlane plane) throws Exception {
    String database = plane.newDatabase();
    String namespace = plane.uniqueNamespace("it-observe");
    String downNamespace = plane.uniqueNamespace("it-observe-down");
    String stateNs = plane.uniqueNamespace("it-observe-state");
    deploy(plane, "rag", namespace, stateNs);
    deploy(plane, "down", downNamespace, stateNs);
    // A look-alike: "rag"'s labels on a database where rag's inventory does not place it.
    String lookAlikeNamespace = plane.uniqueNamespace("it-observe-lookalike");
    deploy(plane, "rag", lookAlikeNamespace);
    String lookAlike = "namespace=\"" + lookAlikeNamespace + "\"";
    // Series are told apart by namespace: an environment of the same name may be left by another test.
    String rag = "namespace=\"" + namespace + "\"";
    String down = "namespace=\"" + downNamespace + "\"";
    plane.langchainCollections(database, "handbook:user-1:1200:16", "faq:user-2:300:16", "notes:user-1:40:16");

    Vertx vertx = Vertx.vertx();
    HttpServer langconnect = await(vertx.createHttpServer()
        .requestHandler(r -> r.response().putHeader("Content-Type", "application/json").end("{\"status\":\"ok\"}"))
        .listen(0, "127.0.0.1"));
    MetricsExposition metrics = new MetricsExposition(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    var pg = plane.postgres(database);
    // The collector reaches "rag" through a proxy the test can cut, as if the database went down.
    io.langconnect.gitops.testenv.TcpProxy dbProxy = io.langconnect.gitops.testenv.TcpProxy.start(vertx, pg.getHost(), pg.getPort());
    ControllerConfig config = ControllerConfig.defaults()
        .withKubernetes(new ControllerConfig.Kubernetes(stateNs, null, false, null, null))
        .withObserve(new ControllerConfig.Observe(true, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), 2))
        .withDatabases(Map.of(
            "rag", new ControllerConfig.DatabaseEndpoint("127.0.0.1", dbProxy.port(), database, "postgres", null, false,
                "http://127.0.0.1:" + langconnect.actualPort() + "/health"),
            "down", new ControllerConfig.DatabaseEndpoint("127.0.0.1", 1, database, "postgres", null, false,
                "http://127.0.0.1:1/health")));
    Pool sql = plane.pool(database);
    // Everything the controller logs meanwhile is captured, to check that no password is ever logged.
    LogCapture logged = LogCapture.start();
    io.langconnect.gitops.apply.WorkloadCache workloads = new io.langconnect.gitops.apply.WorkloadCache(plane.admin());
    try {
      ServerVersions versions = new ServerVersions();
      await(vertx.deployVerticle(new ObserverVerticle(plane.admin(), workloads, config, metrics, versions)));
      // Everything asserted below is collected in the same cycles, on their own schedules: wait for all of it.
      eventually(() -> {
        String s = scrape(metrics);
        return !Double.isNaN(value(s, "langconnect_vector_collection_embeddings", "collection=\"handbook\""))
            && !Double.isNaN(value(s, "langconnect_postgres_up", down))
            && !Double.isNaN(value(s, "langconnect_api_up", rag))
            && !Double.isNaN(value(s, "langconnect_api_up", down))
            && !Double.isNaN(value(s, "langconnect_deployment_replicas", rag))
            && !Double.isNaN(value(s, "langconnect_vector_column_dimensions", rag))
            // Each query of a cycle ends on its own: the size may come after the columns.
            && !Double.isNaN(value(s, "langconnect_database_size_bytes", rag))
            && !Double.isNaN(value(s, "langconnect_pgvector_info", rag))
            && !Double.isNaN(value(s, "langconnect_vector_column_without_ann_index", rag))
            && !Double.isNaN(value(s, "langconnect_vector_table_size_bytes", rag));
      });
      String scrape = scrape(metrics);

      assertThat(value(scrape, "langconnect_postgres_up", rag)).isEqualTo(1.0);
      assertThat(value(scrape, "langconnect_postgres_up", down)).isEqualTo(0.0);
      assertThat(scrape).as("rag's configured credentials are not handed to a look-alike").doesNotContain(lookAlike);
      // The probe reads the server's own version, which the sync's major-version guard trusts over image tags.
      Integer running = await(sql.query("SELECT current_setting('server_version_num')::int AS v").execute())
          .iterator().next().getInteger("v");
      assertThat(versions.major(namespace, "rag")).hasValue(running / 10000);
      assertThat(versions.major(downNamespace, "down")).isEmpty();
      assertThat(value(scrape, "langconnect_api_up", rag)).isEqualTo(1.0);
      assertThat(value(scrape, "langconnect_api_up", down)).isEqualTo(0.0);
      assertThat(value(scrape, "langconnect_deployment_replicas", rag, "component=\"postgres\"", "state=\"desired\"")).isEqualTo(1.0);

      long size = await(sql.query("SELECT pg_database_size(current_database()) AS s").execute()).iterator().next().getLong("s");
      assertThat(value(scrape, "langconnect_database_size_bytes", rag)).isCloseTo(size, org.assertj.core.data.Percentage.withPercentage(5));
      String version = await(sql.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'").execute())
          .iterator().next().getString("extversion");
      assertThat(value(scrape, "langconnect_pgvector_info", rag, "version=\"" + version + "\"")).isEqualTo(1.0);
      assertThat(value(scrape, "langconnect_vector_column_dimensions", rag, "table=\"langchain_pg_embedding\"",
          "column=\"embedding\"", "type=\"vector\"")).isEqualTo(16.0);
      assertThat(value(scrape, "langconnect_vector_column_without_ann_index", rag, "column=\"embedding\"")).isEqualTo(1.0);

      // Two collections of their own (maxCollections 2), the smallest summed as "(other)".
      assertThat(value(scrape, "langconnect_vector_collection_embeddings", rag, "collection=\"handbook\"")).isEqualTo(1200.0);
      assertThat(value(scrape, "langconnect_vector_collection_embeddings", rag, "collection=\"faq\"")).isEqualTo(300.0);
      assertThat(value(scrape, "langconnect_vector_collection_embeddings", rag, "collection=\"(other)\"")).isEqualTo(40.0);
      assertThat(scrape).contains("langconnect_vector_collection_counted_timestamp_seconds{");

      long tableBytes = await(sql.query("SELECT pg_table_size('langchain_pg_embedding') AS s").execute())
          .iterator().next().getLong("s");
      assertThat(value(scrape, "langconnect_vector_table_size_bytes", rag, "table=\"langchain_pg_embedding\""))
          .isCloseTo(tableBytes, org.assertj.core.data.Percentage.withPercentage(5));

      // An HNSW expression index on the cast, as an operator adds one for LangChain's undeclared column.
      await(sql.query("CREATE INDEX handbook_hnsw ON langchain_pg_embedding USING hnsw ((embedding::vector(16)) vector_cosine_ops)")
          .execute());
      await(sql.query("ANALYZE langchain_pg_embedding").execute());
      // Columns and indexes are separate queries of one cycle: wait until both have seen the new index.
      eventually(() -> value(scrape(metrics), "langconnect_vector_column_without_ann_index", rag) == 0.0
          && value(scrape(metrics), "langconnect_vector_index_info", rag, "index=\"handbook_hnsw\"") == 1.0);
      String indexed = scrape(metrics);
      assertThat(value(indexed, "langconnect_vector_index_info", rag, "index=\"handbook_hnsw\"", "method=\"hnsw\"",
          "opclass=\"vector_cosine_ops\"")).isEqualTo(1.0);
      long indexBytes = await(sql.query("SELECT pg_relation_size('handbook_hnsw') AS s").execute()).iterator().next().getLong("s");
      assertThat(value(indexed, "langconnect_vector_index_size_bytes", rag, "index=\"handbook_hnsw\"")).isEqualTo(indexBytes);
      eventually(() -> value(scrape(metrics), "langconnect_vector_collection_embeddings_estimate", rag,
          "collection=\"handbook\"") > 0);
      assertThat(value(scrape(metrics), "langconnect_vector_collection_embeddings_estimate", rag, "collection=\"handbook\""))
          .isCloseTo(1200.0, org.assertj.core.data.Percentage.withPercentage(10));

      // The database goes down: the next cycle reads 0, the last sizes stay (with their timestamp), and a scrape
      // is still served from memory.
      dbProxy.stop();
      eventually(() -> value(scrape(metrics), "langconnect_postgres_up", rag) == 0.0);
      assertThat(value(scrape(metrics), "langconnect_database_size_bytes", rag)).isPositive();
      assertThat(scrape(metrics)).contains("langconnect_collector_errors_total");

      String finalScrape = scrape(metrics);
      assertThat(finalScrape).doesNotContain(PASSWORD);
      assertThat(logged.text()).contains("observing rag").doesNotContain(PASSWORD);
      Path file = Files.writeString(tmp.resolve("metrics.prom"), finalScrape);
      Process promtool = new ProcessBuilder(plane.promtool(), "check", "metrics").redirectInput(file.toFile())
          .redirectErrorStream(true).start();
      String verdict = new String(promtool.getInputStream().readAllBytes());
      assertThat(promtool.waitFor()).as(verdict).isZero();

      // Without an override, a database and its LangConnect are reached at their Services' cluster IPs: no DNS
      // lookup per database every cycle.
      DatabaseTarget plain = new TargetDiscovery(plane.admin(), NamespacePolicy.IN_CLUSTER, workloads, Map.of(),
          env -> Optional.empty()).discover().stream()
          .filter(t -> t.namespace().equals(namespace)).findFirst().orElseThrow();
      assertThat(plain.host()).isEqualTo(clusterIp(plane, namespace, "langconnect-postgres"));
      assertThat(plain.langconnectUrl())
          .isEqualTo("http://" + clusterIp(plane, namespace, "langconnect-langconnect") + ":8080/health");
    } finally {
      logged.close();
      sql.close();
      vertx.close().await();
      workloads.close();
    }
  }

  /** What a scrape of /metrics serves. */
  private static String scrape(MetricsExposition metrics) {
    return metrics.scrape().toString(java.nio.charset.StandardCharsets.UTF_8);
  }
}
