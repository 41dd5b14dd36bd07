package io.langconnect.gitops.bench;

import static io.langconnect.gitops.testenv.LocalControlPlane.await;

import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code GET /metrics} as Prometheus sees it: controllers run as their own processes ({@code java -jar ... serve}),
 * each with 10 environments whose databases hold 100 LangChain collections, next to Debian's
 * prometheus-postgres-exporter on the same database. The scrapes of all of them are interleaved, so every one
 * meets the same noise; the controllers collect on their default schedule (an earlier build takes its first exact counts only at its first slow tick: its line count says so). Pass several jars (this build and an earlier one) to compare them in one run. Prints
 * figures; asserts nothing.
 *
 * <p>Arguments: {@code EMBEDDINGS JAR [JAR ...]}; each jar may be given as {@code label=path}.
 */
public final class ObserveBenchmark {

  private static final LocalControlPlane PLANE = new LocalControlPlane();
  private static final int ENVIRONMENTS = 10;
  private static final int COLLECTIONS = 100;
  private static final int SCRAPES = 1000;

  private record Endpoint(String label, String url) {}

  public static void main(String[] args) throws Exception {
    int rows = Integer.parseInt(args[0]);
    Map<String, Path> jars = new LinkedHashMap<>();
    for (int i = 1; i < args.length; i++) {
      String[] labelled = args[i].split("=", 2);
      jars.put(labelled.length == 2 ? labelled[0] : "jar " + i, Path.of(labelled[labelled.length - 1]));
    }
    List<Process> processes = new ArrayList<>();
    Path work = Files.createTempDirectory("bench-metrics");
    try {
      String database = PLANE.newDatabase();
      makeData(database, rows);
      var pg = PLANE.postgres(database);

      // One values repository of 10 environments; every controller syncs it (identical applies, so they agree)
      // and observes the same 10 environments, each pointed at the benchmark's database.
      ValuesRepo repo = ValuesRepo.create(PLANE, work.resolve("values"));
      StringBuilder databases = new StringBuilder("databases:\n");
      for (int i = 0; i < ENVIRONMENTS; i++) {
        String env = "bench" + i;
        repo.write("values-" + env + ".yaml", "namespace: " + PLANE.uniqueNamespace("bench-metrics-" + i) + "\n"
            + "langconnect:\n  image:\n    repository: registry.example.com/langconnect\n"
            + "postgres:\n  auth:\n    password: bench\n");
        databases.append("  ").append(env).append(": {host: ").append(pg.getHost()).append(", port: ").append(pg.getPort())
            .append(", database: ").append(database).append(", username: postgres, langconnectUrl: \"http://127.0.0.1:1/health\"}\n");
      }
      repo.commitAndPush("10 environments");
      String state = PLANE.uniqueNamespace("bench-metrics-state");

      List<Endpoint> endpoints = new ArrayList<>();
      for (Map.Entry<String, Path> jar : jars.entrySet()) {
        int port = freePort();
        Path config = Files.writeString(work.resolve(jar.getKey().replaceAll("\\W", "_") + ".yaml"), """
            git: {url: "%s", interval: 10s, workDir: "%s"}
            kubernetes: {stateNamespace: %s, leaderElection: false}
            sync: {databaseReadyTimeout: 0s}
            http: {port: %d, host: 127.0.0.1}
            %s""".formatted(repo.gitUrl(), work.resolve("clone-" + port), state, port, databases));
        processes.add(new ProcessBuilder("java", "-Xmx512m", "-DLOG_LEVEL=WARN", "-jar",
            jar.getValue().toString(), "serve", "--config", config.toString(), "--kubeconfig", PLANE.kubeconfig())
            .redirectErrorStream(true).redirectOutput(work.resolve(port + ".log").toFile()).start());
        endpoints.add(new Endpoint(jar.getKey(), "http://127.0.0.1:" + port + "/metrics"));
      }

      int exporterPort = freePort();
      ProcessBuilder exporter = new ProcessBuilder("prometheus-postgres-exporter", "--web.listen-address=127.0.0.1:" + exporterPort)
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
      exporter.environment().put("DATA_SOURCE_NAME", "postgresql://postgres@" + pg.getHost() + ":" + pg.getPort() + "/"
          + database + "?sslmode=disable");
      processes.add(exporter.start());
      endpoints.add(new Endpoint("prometheus-postgres-exporter", "http://127.0.0.1:" + exporterPort + "/metrics"));

      Vertx vertx = Vertx.vertx();
      HttpClientAgent http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(1));
      for (Endpoint endpoint : endpoints.subList(0, jars.size())) awaitCollections(http, endpoint);
      Endpoint exporterEndpoint = endpoints.remove(endpoints.size() - 1);
      // The floor: what any answer costs this client on this machine.
      endpoints.add(new Endpoint("GET /healthz (" + endpoints.get(0).label() + ")",
          endpoints.get(0).url().replace("/metrics", "/healthz")));
      System.out.printf("%,d embeddings in %d LangChain collections, %d environments observing them; %d scrapes of each,"
          + " interleaved:%n", rows, COLLECTIONS, ENVIRONMENTS, SCRAPES);
      measure(http, endpoints);
      // The exporter queries PostgreSQL on every scrape, loading the machine for everything else: measured apart,
      // next to this build.
      System.out.println("next to prometheus-postgres-exporter (which queries the database on every scrape):");
      measure(http, List.of(endpoints.get(0), exporterEndpoint));
      collectorCost(get(http, endpoints.get(0).url()).toString(StandardCharsets.UTF_8));
      vertx.close().await();
    } finally {
      processes.forEach(Process::destroy);
      PLANE.afterEach(null);
    }
  }

  /** Interleaved scrapes of the endpoints: each meets the same noise. Prints median, p99 and ratios to the fastest. */
  private static void measure(HttpClientAgent http, List<Endpoint> endpoints) throws Exception {
    Map<Endpoint, List<Long>> times = new LinkedHashMap<>();
    Map<Endpoint, Integer> lines = new LinkedHashMap<>();
    for (Endpoint endpoint : endpoints) {
      times.put(endpoint, new ArrayList<>());
      for (int i = 0; i < 20; i++) lines.put(endpoint, (int) get(http, endpoint.url()).toString(StandardCharsets.UTF_8).lines().count()); // warm-up
    }
    for (int i = 0; i < SCRAPES; i++) {
      for (Endpoint endpoint : endpoints) {
        long start = System.nanoTime();
        get(http, endpoint.url());
        times.get(endpoint).add(System.nanoTime() - start);
      }
    }
    long fastest = Long.MAX_VALUE;
    for (Endpoint endpoint : endpoints) {
      List<Long> sorted = times.get(endpoint);
      Collections.sort(sorted);
      fastest = Math.min(fastest, median(sorted));
    }
    for (Endpoint endpoint : endpoints) {
      List<Long> sorted = times.get(endpoint);
      System.out.printf("  %-32s median %6.2f ms, p99 %6.2f ms, median %5.1fx the fastest (%,d lines)%n", endpoint.label(),
          ms(median(sorted)), ms(p99(sorted)), (double) median(sorted) / fastest, lines.get(endpoint));
    }
  }

  /** LangChain makes the tables and the collections; the bulk of rows goes in by SQL, in the same layout. */
  private static void makeData(String database, int rows) throws Exception {
    String[] specs = new String[COLLECTIONS];
    for (int i = 0; i < COLLECTIONS; i++) specs[i] = "collection-" + i + ":owner:1:16";
    PLANE.langchainCollections(database, specs);
    Pool sql = PLANE.pool(database);
    await(sql.query("INSERT INTO langchain_pg_embedding (id, collection_id, embedding, document, cmetadata) "
        + "SELECT md5(i::text), c.ids[1 + i % " + COLLECTIONS + "], "
        + "  ('[' || (i % 97) || ',' || (i % 89) || ',1,2,3,4,5,6,7,8,9,10,11,12,13,' || (i % 83) || ']')::vector, "
        + "  'document ' || i, '{}'::jsonb "
        + "FROM generate_series(1, " + Math.max(0, rows - COLLECTIONS) + ") i, "
        + "(SELECT array_agg(uuid ORDER BY name) AS ids FROM langchain_pg_collection) c").execute());
    await(sql.query("VACUUM ANALYZE langchain_pg_embedding").execute());
    sql.close();
  }

  /** Until every environment exports its collections' estimates (at most 50 of its own, the rest as "(other)"). */
  private static void awaitCollections(HttpClientAgent http, Endpoint endpoint) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (true) {
      String scrape = "";
      try {
        scrape = get(http, endpoint.url()).toString(StandardCharsets.UTF_8);
      } catch (java.util.concurrent.ExecutionException notYetListening) {
        // the process is still starting
      }
      long environments = scrape.lines().filter(l -> l.startsWith("langconnect_vector_collection_embeddings_estimate{")
          && l.contains("collection=\"(other)\"")).count();
      if (environments == ENVIRONMENTS) return;
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(endpoint.label() + " did not observe " + ENVIRONMENTS + " environments in time");
      }
      Thread.sleep(500);
    }
  }

  private static final Pattern QUERY = Pattern.compile(
      "langconnect_collector_query_duration_seconds_(sum|count)\\{environment=\"bench0\",[^}]*query=\"([a-z_]+)\"[^}]*} (\\S+)");

  /** The collector's own cost, from its duration series (environment bench0). */
  private static void collectorCost(String scrape) {
    Map<String, double[]> byQuery = new LinkedHashMap<>();
    Matcher m = QUERY.matcher(scrape);
    while (m.find()) byQuery.computeIfAbsent(m.group(2), q -> new double[2])[m.group(1).equals("sum") ? 0 : 1] = Double.parseDouble(m.group(3));
    double cycle = 0;
    for (var entry : byQuery.entrySet()) {
      double[] sumCount = entry.getValue();
      if (sumCount[1] > 0 && !entry.getKey().equals("collection_counts")) cycle += sumCount[0] / sumCount[1];
    }
    double[] counts = byQuery.getOrDefault("collection_counts", new double[] {0, 1});
    System.out.printf("  the collector, per environment: %.1f ms of queries per cycle; exact counts of %d collections %.1f ms%n",
        cycle * 1000, COLLECTIONS, counts[0] / Math.max(1, counts[1]) * 1000);
  }

  /** One GET over a kept-alive connection, the whole body read. */
  private static Buffer get(HttpClientAgent http, String url) throws Exception {
    URI uri = URI.create(url);
    return http.request(HttpMethod.GET, uri.getPort(), uri.getHost(), uri.getPath())
        .compose(request -> request.send().compose(HttpClientResponse::body))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
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
