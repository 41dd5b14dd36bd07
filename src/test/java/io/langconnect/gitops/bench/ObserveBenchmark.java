package io.langconnect.gitops.bench;

import static io.langconnect.gitops.testenv.LocalControlPlane.await;

import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.observe.MetricsExposition;
import io.langconnect.gitops.observe.ObserverVerticle;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.values.ValuesFixture;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.sqlclient.Pool;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * /metrics latency and collection cost with 1,000,000 embeddings in 100 LangChain collections, side by side
 * with Debian's prometheus-postgres-exporter scraping the same database. Prints figures; asserts nothing.
 */
public final class ObserveBenchmark {

  private static final LocalControlPlane PLANE = new LocalControlPlane();
  private static final int SCRAPES = 50;

  public static void main(String[] args) throws Exception {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    Vertx vertx = Vertx.vertx();
    Process exporter = null;
    try {
      String database = PLANE.newDatabase();
      Pool sql = PLANE.pool(database);
      makeData(database, sql, rows);
      String namespace = PLANE.uniqueNamespace("bench-observe");
      var values = ValuesFixture.folder().env("bench", "namespace: " + namespace
          + "\nlangconnect:\n  image:\n    repository: lc\npostgres:\n  auth:\n    password: bench\n").valid("bench");
      new Applier(PLANE.admin(), new Retry(3, Duration.ofMillis(50), Duration.ofMillis(200)))
          .apply("bench", namespace, StackRenderer.render(values, Optional.empty()), "bench", Inventory.empty("bench"),
              new Applier.Options(false, Duration.ZERO));

      var pg = PLANE.postgres(database);
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      MetricsExposition metrics = new MetricsExposition(registry);
      ControllerConfig config = ControllerConfig.defaults()
          .withObserve(new ControllerConfig.Observe(true, Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(30), 50))
          .withDatabases(Map.of("bench", new ControllerConfig.DatabaseEndpoint(pg.getHost(), pg.getPort(), database,
              "postgres", null, false, "http://127.0.0.1:1/health")));
      await(vertx.deployVerticle(new ObserverVerticle(PLANE.admin(), config, metrics)));
      HttpServer server = await(vertx.createHttpServer().requestHandler(r -> r.response()
          .putHeader("Content-Type", MetricsExposition.CONTENT_TYPE).end(metrics.scrape())).listen(0, "127.0.0.1"));
      while (registry.find("langconnect.collector.query.duration").tag("query", "collection_counts").timer() == null
          || registry.find("langconnect.collector.query.duration").tag("query", "collection_counts").timer().count() < 3) {
        Thread.sleep(200);
      }

      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      ProcessBuilder builder = new ProcessBuilder("prometheus-postgres-exporter", "--web.listen-address=127.0.0.1:" + port)
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
      builder.environment().put("DATA_SOURCE_NAME", "postgresql://postgres@" + pg.getHost() + ":" + pg.getPort() + "/"
          + database + "?sslmode=disable");
      exporter = builder.start();

      HttpClient http = HttpClient.newHttpClient();
      List<Long> ours = scrapeTimes(http, "http://127.0.0.1:" + server.actualPort() + "/metrics");
      List<Long> theirs = scrapeTimes(http, "http://127.0.0.1:" + port + "/metrics");
      System.out.printf("%,d embeddings in 100 collections, %d scrapes each:%n", rows, SCRAPES);
      System.out.printf("  langconnect-gitops /metrics: median %.2f ms, p99 %.2f ms%n", ms(median(ours)), ms(p99(ours)));
      System.out.printf("  prometheus-postgres-exporter 0.11 /metrics: median %.2f ms, p99 %.2f ms%n", ms(median(theirs)), ms(p99(theirs)));
      System.out.printf("  ratio (exporter / ours): median %.1fx, p99 %.1fx%n", (double) median(theirs) / median(ours),
          (double) p99(theirs) / p99(ours));
      double fast = 0;
      for (Timer t : registry.find("langconnect.collector.query.duration").timers()) {
        String q = t.getId().getTag("query");
        if (!q.equals("collection_counts") && !q.equals("probe")) fast += t.mean(TimeUnit.MILLISECONDS);
      }
      System.out.printf("  one collection cycle (probe, sizes, vector stats, estimates): %.1f ms of queries + probe %.1f ms;"
              + " exact counts of 100 collections: %.1f ms%n", fast,
          registry.find("langconnect.collector.query.duration").tag("query", "probe").timer().mean(TimeUnit.MILLISECONDS),
          registry.find("langconnect.collector.query.duration").tag("query", "collection_counts").timer().mean(TimeUnit.MILLISECONDS));
      sql.close();
    } finally {
      if (exporter != null) exporter.destroy();
      vertx.close().await();
      PLANE.afterEach(null);
    }
  }

  private static void makeData(String database, Pool sql, int rows) throws Exception {
    var pg = PLANE.postgres(database);
    String dsn = "postgresql+psycopg://postgres@" + pg.getHost() + ":" + pg.getPort() + "/" + database;
    List<String> command = new ArrayList<>(List.of(PLANE.langchainPython(), "test-support/langchain/make_collections.py", dsn));
    for (int i = 0; i < 100; i++) command.add("collection-" + i + ":owner:1:16");
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (p.waitFor() != 0) throw new IllegalStateException("LangChain could not make the collections");
    // LangChain made the tables and the 100 collections; the bulk of rows goes in by SQL, in the same layout.
    await(sql.query("INSERT INTO langchain_pg_embedding (id, collection_id, embedding, document, cmetadata) "
        + "SELECT md5(i::text), c.ids[1 + i % 100], "
        + "  ('[' || (i % 97) || ',' || (i % 89) || ',1,2,3,4,5,6,7,8,9,10,11,12,13,' || (i % 83) || ']')::vector, "
        + "  'document ' || i, '{}'::jsonb "
        + "FROM generate_series(1, " + (rows - 100) + ") i, "
        + "(SELECT array_agg(uuid ORDER BY name) AS ids FROM langchain_pg_collection) c").execute());
    await(sql.query("VACUUM ANALYZE langchain_pg_embedding").execute());
  }

  private static List<Long> scrapeTimes(HttpClient http, String url) throws Exception {
    for (int i = 0; i < 3; i++) http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding());
    List<Long> times = new ArrayList<>();
    for (int i = 0; i < SCRAPES; i++) {
      long start = System.nanoTime();
      http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
      times.add(System.nanoTime() - start);
    }
    Collections.sort(times);
    return times;
  }

  private static long median(List<Long> sorted) {
    return sorted.get(sorted.size() / 2);
  }

  private static long p99(List<Long> sorted) {
    return sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
