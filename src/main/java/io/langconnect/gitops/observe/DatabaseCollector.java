package io.langconnect.gitops.observe;

import io.micrometer.core.instrument.Tags;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Collects one environment's database facts over vertx-pg-client: probe, size, pgvector, vector columns,
 * tables, ANN indexes, index builds, and LangChain collections. Every query runs on its own with a statement
 * timeout; one that fails is counted and leaves the others (and its own last values) in place.
 */
final class DatabaseCollector {

  /** Vector columns of ordinary tables (vector, halfvec, sparsevec) with their declared dimension, if any. */
  private static final String VECTOR_COLUMNS = """
      SELECT n.nspname AS schema, c.relname AS tbl, a.attname AS col, t.typname AS type,
             CASE WHEN a.atttypmod > 0 THEN a.atttypmod END AS declared,
             EXISTS (SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam
                     WHERE x.indrelid = c.oid AND am.amname IN ('hnsw', 'ivfflat')
                       AND (a.attnum = ANY (x.indkey::int2[])
                            OR position(quote_ident(a.attname) IN coalesce(pg_get_expr(x.indexprs, x.indrelid), '')) > 0
                            OR position(a.attname IN coalesce(pg_get_expr(x.indexprs, x.indrelid), '')) > 0)) AS indexed
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid
      WHERE t.typname IN ('vector', 'halfvec', 'sparsevec') AND c.relkind IN ('r', 'p')
        AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1, 2, 3""";

  /** Size, tuples and maintenance of every table that holds a vector column. */
  private static final String VECTOR_TABLES = """
      SELECT s.schemaname AS schema, s.relname AS tbl, pg_table_size(s.relid) AS table_bytes,
             pg_indexes_size(s.relid) AS index_bytes, s.n_live_tup AS live, s.n_dead_tup AS dead,
             extract(epoch FROM now() - greatest(s.last_vacuum, s.last_autovacuum))::float8 AS vacuum_age,
             extract(epoch FROM now() - greatest(s.last_analyze, s.last_autoanalyze))::float8 AS analyze_age
      FROM pg_stat_user_tables s
      WHERE EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                    WHERE a.attrelid = s.relid AND t.typname IN ('vector', 'halfvec', 'sparsevec')
                      AND a.attnum > 0 AND NOT a.attisdropped)""";

  private static final String ANN_INDEXES = """
      SELECT n.nspname AS schema, t.relname AS tbl, i.relname AS idx, am.amname AS method, opc.opcname AS opclass,
             pg_relation_size(i.oid) AS bytes, coalesce(s.idx_scan, 0) AS scans
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      JOIN pg_am am ON am.oid = i.relam
      JOIN pg_opclass opc ON opc.oid = x.indclass[0]
      LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.oid
      WHERE am.amname IN ('hnsw', 'ivfflat')""";

  private static final String INDEX_BUILDS = """
      SELECT p.relid::regclass::text AS tbl, coalesce(p.index_relid::regclass::text, '') AS idx, p.phase,
             CASE WHEN p.blocks_total > 0 THEN p.blocks_done::float8 / p.blocks_total
                  WHEN p.tuples_total > 0 THEN p.tuples_done::float8 / p.tuples_total ELSE 0 END AS ratio
      FROM pg_stat_progress_create_index p WHERE p.datname = current_database()""";

  private static final String COLLECTIONS = """
      SELECT c.uuid::text AS id, coalesce(c.cmetadata->>'name', c.name) AS display FROM langchain_pg_collection c""";

  /** The planner's view: rows of the embedding table, and each frequent collection's share of them. */
  private static final String COLLECTION_ESTIMATES = """
      SELECT (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'langchain_pg_embedding'::regclass)::float8 AS total,
             s.most_common_vals::text AS vals, s.most_common_freqs AS freqs
      FROM (SELECT 1) one
      LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = 'langchain_pg_embedding'
                          AND s.attname = 'collection_id'""";

  private static final String EXACT_COUNTS =
      "SELECT collection_id::text AS id, count(*) AS n FROM langchain_pg_embedding GROUP BY 1";

  /** Every query's name, as the duration and error series label it. */
  static final List<String> QUERIES = List.of("probe", "database_size", "pgvector_version", "vector_columns",
      "vector_dimension", "vector_tables", "ann_indexes", "index_builds", "langchain_tables", "collections",
      "collection_estimates", "collection_counts");

  private final Vertx vertx;
  private final DatabaseTarget target;
  private final ObserverMetrics metrics;
  private final ServerVersions versions;
  private final Duration queryTimeout;
  private final int maxCollections;
  private final Pool pool;
  private final Tags base;

  private Map<String, String> collectionNames = Map.of();
  private boolean up;
  private boolean refused;

  DatabaseCollector(Vertx vertx, DatabaseTarget target, ObserverMetrics metrics, ServerVersions versions,
                    Duration queryTimeout, int maxCollections) {
    this.versions = versions;
    this.vertx = vertx;
    this.target = target;
    this.metrics = metrics;
    this.queryTimeout = queryTimeout;
    this.maxCollections = maxCollections;
    this.pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(options()).using(vertx).build();
    this.base = Tags.of("environment", target.environment(), "namespace", target.namespace());
    metrics.queriesKnown(target, QUERIES);
  }

  DatabaseTarget target() {
    return target;
  }

  private PgConnectOptions options() {
    PgConnectOptions options = new PgConnectOptions()
        .setHost(target.host()).setPort(target.port()).setDatabase(target.database()).setUser(target.username())
        .addProperty("application_name", "langconnect-gitops")
        .addProperty("statement_timeout", Long.toString(queryTimeout.toMillis()));
    target.password().ifPresent(options::setPassword);
    if (target.sslMode().equals("disable")) return options;
    options.setSslMode(io.vertx.pgclient.SslMode.of(target.sslMode()));
    io.vertx.core.net.ClientSSLOptions tls = new io.vertx.core.net.ClientSSLOptions();
    // As libpq: require checks no certificate unless a CA is given; verify-full also checks the host name.
    target.caPem().ifPresentOrElse(
        pem -> tls.setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertValue(io.vertx.core.buffer.Buffer.buffer(pem))),
        () -> tls.setTrustAll(!target.sslMode().startsWith("verify")));
    if (target.sslMode().equals("verify-full")) tls.setHostnameVerificationAlgorithm("HTTPS");
    else tls.setHostnameVerificationAlgorithm("");
    options.setSslOptions(tls);
    return options;
  }

  /** Whether the database turned the last probe's credentials down. */
  boolean credentialsRefused() {
    return refused;
  }

  /**
   * Nothing can answer (the database's pods are not Ready, so its Service has no endpoint): down, without a
   * connection attempt. A thousand databases that are not running cost no connection each cycle.
   */
  void down() {
    up = false;
    refused = false;
    metrics.postgresUp.set(target.key(), List.of(row(base, 0)));
  }

  /** Probes, then (when up) everything but the exact counts. */
  Future<Void> collect() {
    long started = System.nanoTime();
    return PgConnection.connect(vertx, options())
        .compose(conn -> conn.query("SELECT current_setting('server_version_num')::int AS version").execute()
            .eventually(conn::close))
        .timeout(queryTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .transform(probe -> {
          Duration took = Duration.ofNanos(System.nanoTime() - started);
          metrics.query(target, "probe", took, probe.succeeded());
          up = probe.succeeded();
          // SQLSTATE class 28: invalid authorization (a rotated password, a user that changed).
          refused = probe.cause() instanceof io.vertx.pgclient.PgException pg && pg.getSqlState() != null
              && pg.getSqlState().startsWith("28");
          metrics.postgresUp.set(target.key(), List.of(row(base, up ? 1 : 0)));
          metrics.probeDuration.set(target.key(), List.of(row(base, took.toNanos() / 1e9)));
          if (probe.failed()) return Future.succeededFuture();
          // Which major version wrote the data: the sync's guard trusts this over the deployed image's tag.
          versions.record(target, probe.result().iterator().next().getInteger("version"));
          return Future.join(List.of(databaseSize(), pgvector(), vectorColumns(), vectorTables(), annIndexes(),
                  indexBuilds(), collectionEstimates()))
              .<Void>mapEmpty()
              .onComplete(done -> metrics.lastCollected.set(target.key(),
                  List.of(row(base, Instant.now().getEpochSecond()))))
              .recover(e -> Future.succeededFuture());
        });
  }

  private Future<Void> databaseSize() {
    return query("database_size", "SELECT pg_database_size(current_database()) AS bytes", rows ->
        metrics.databaseSize.set(target.key(),
            List.of(row(base.and("database", target.database()), rows.iterator().next().getLong("bytes")))));
  }

  private Future<Void> pgvector() {
    return query("pgvector_version", "SELECT extversion FROM pg_extension WHERE extname = 'vector'", rows -> {
      List<GaugeTable.Row> out = new ArrayList<>();
      rows.forEach(r -> out.add(row(base.and("version", r.getString("extversion")), 1)));
      metrics.pgvectorInfo.set(target.key(), out);
    });
  }

  private Future<Void> vectorColumns() {
    return query("vector_columns", VECTOR_COLUMNS, rows -> {
      List<Row> columns = new ArrayList<>();
      rows.forEach(columns::add);
      List<GaugeTable.Row> without = new ArrayList<>();
      List<Future<GaugeTable.Row>> dims = new ArrayList<>();
      for (Row r : columns) {
        Tags tags = base.and("table", table(r.getString("schema"), r.getString("tbl"))).and("column", r.getString("col"));
        without.add(row(tags, r.getBoolean("indexed") ? 0 : 1));
        Tags typed = tags.and("type", r.getString("type"));
        Integer declared = r.getInteger("declared");
        if (declared != null) dims.add(Future.succeededFuture(row(typed, declared)));
        else if (!r.getString("type").equals("sparsevec")) dims.add(sampleDimension(r, typed));
      }
      metrics.vectorColumnWithoutIndex.set(target.key(), without);
      Future.join(dims).onComplete(done -> {
        List<GaugeTable.Row> out = new ArrayList<>();
        dims.stream().filter(Future::succeeded).map(Future::result).filter(d -> d != null).forEach(out::add);
        metrics.vectorColumnDimensions.set(target.key(), out);
      });
    });
  }

  /** LangChain's embedding column declares no dimension: read it from one stored vector. */
  private Future<GaugeTable.Row> sampleDimension(Row column, Tags tags) {
    String sql = "SELECT vector_dims(" + ident(column.getString("col")) + ") AS d FROM "
        + ident(column.getString("schema")) + "." + ident(column.getString("tbl"))
        + " WHERE " + ident(column.getString("col")) + " IS NOT NULL LIMIT 1";
    return timed("vector_dimension", sql).map(rows -> rows.size() == 0 ? null : row(tags, rows.iterator().next().getInteger("d")));
  }

  private Future<Void> vectorTables() {
    return query("vector_tables", VECTOR_TABLES, rows -> {
      List<GaugeTable.Row> size = new ArrayList<>();
      List<GaugeTable.Row> indexSize = new ArrayList<>();
      List<GaugeTable.Row> live = new ArrayList<>();
      List<GaugeTable.Row> dead = new ArrayList<>();
      List<GaugeTable.Row> vacuum = new ArrayList<>();
      List<GaugeTable.Row> analyze = new ArrayList<>();
      for (Row r : rows) {
        Tags tags = base.and("table", table(r.getString("schema"), r.getString("tbl")));
        size.add(row(tags, r.getLong("table_bytes")));
        indexSize.add(row(tags, r.getLong("index_bytes")));
        live.add(row(tags, r.getLong("live")));
        dead.add(row(tags, r.getLong("dead")));
        if (r.getDouble("vacuum_age") != null) vacuum.add(row(tags, r.getDouble("vacuum_age")));
        if (r.getDouble("analyze_age") != null) analyze.add(row(tags, r.getDouble("analyze_age")));
      }
      metrics.tableSize.set(target.key(), size);
      metrics.tableIndexSize.set(target.key(), indexSize);
      metrics.liveTuples.set(target.key(), live);
      metrics.deadTuples.set(target.key(), dead);
      metrics.vacuumAge.set(target.key(), vacuum);
      metrics.analyzeAge.set(target.key(), analyze);
    });
  }

  private Future<Void> annIndexes() {
    return query("ann_indexes", ANN_INDEXES, rows -> {
      List<GaugeTable.Row> info = new ArrayList<>();
      List<GaugeTable.Row> size = new ArrayList<>();
      List<GaugeTable.Row> scans = new ArrayList<>();
      for (Row r : rows) {
        Tags tags = base.and("table", table(r.getString("schema"), r.getString("tbl"))).and("index", r.getString("idx"));
        info.add(row(tags.and("method", r.getString("method")).and("opclass", r.getString("opclass")), 1));
        size.add(row(tags, r.getLong("bytes")));
        scans.add(row(tags, r.getLong("scans")));
      }
      metrics.annIndexInfo.set(target.key(), info);
      metrics.annIndexSize.set(target.key(), size);
      metrics.annIndexScans.set(target.key(), scans);
    });
  }

  private Future<Void> indexBuilds() {
    return query("index_builds", INDEX_BUILDS, rows -> {
      List<GaugeTable.Row> out = new ArrayList<>();
      rows.forEach(r -> out.add(row(base.and("table", r.getString("tbl")).and("index", r.getString("idx"))
          .and("phase", r.getString("phase")), r.getDouble("ratio"))));
      metrics.indexBuildProgress.set(target.key(), out);
    });
  }

  /** Estimated embeddings per collection from the planner's statistics: cheap, every cycle. */
  private Future<Void> collectionEstimates() {
    return withCollections(() -> query("collection_estimates", COLLECTION_ESTIMATES, rows -> {
      Row r = rows.iterator().next();
      double total = r.getDouble("total") == null ? 0 : r.getDouble("total");
      Map<String, Double> counts = new HashMap<>();
      String vals = r.getString("vals");
      Float[] freqs = r.getArrayOfFloats("freqs");
      if (vals != null && freqs != null) {
        String[] ids = vals.replaceAll("[{}]", "").split(",");
        for (int i = 0; i < ids.length && i < freqs.length; i++) counts.put(ids[i], (double) Math.round(freqs[i] * total));
      }
      metrics.collectionEmbeddingsEstimate.set(target.key(), collectionRows(counts, false));
    }));
  }

  /** Exact embeddings per collection: a full count, on the slow cadence, under the statement timeout. */
  Future<Void> countCollections() {
    return withCollections(() -> query("collection_counts", EXACT_COUNTS, rows -> {
      Map<String, Double> counts = new HashMap<>();
      collectionNames.keySet().forEach(id -> counts.put(id, 0.0));
      rows.forEach(row -> counts.put(row.getString("id"), (double) row.getLong("n")));
      List<GaugeTable.Row> series = collectionRows(counts, true);
      metrics.collectionEmbeddings.set(target.key(), series);
      long now = Instant.now().getEpochSecond();
      metrics.collectionCountedAt.set(target.key(), series.stream().map(r -> new GaugeTable.Row(r.tags(), now)).toList());
    }));
  }

  /** Runs {@code then} with the collections' display names loaded, when the LangChain tables exist. */
  private Future<Void> withCollections(java.util.function.Supplier<Future<Void>> then) {
    return hasLangChainTables().compose(has -> {
      if (!has) return Future.succeededFuture();
      return timed("collections", COLLECTIONS).compose(names -> {
        Map<String, String> byId = new LinkedHashMap<>();
        names.forEach(r -> byId.put(r.getString("id"), r.getString("display")));
        collectionNames = byId;
        return then.get();
      });
    }).otherwiseEmpty();
  }

  /** The largest collections get series of their own; the rest are summed as collection="(other)". */
  private List<GaugeTable.Row> collectionRows(Map<String, Double> counts, boolean includeEmpty) {
    List<Map.Entry<String, Double>> sorted = counts.entrySet().stream()
        .filter(e -> includeEmpty || collectionNames.containsKey(e.getKey()))
        .sorted(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()))
        .toList();
    List<GaugeTable.Row> out = new ArrayList<>();
    double other = 0;
    for (int i = 0; i < sorted.size(); i++) {
      Map.Entry<String, Double> e = sorted.get(i);
      if (i < maxCollections) {
        out.add(row(base.and("collection", collectionNames.getOrDefault(e.getKey(), "(unknown)"))
            .and("collection_id", e.getKey()), e.getValue()));
      } else {
        other += e.getValue();
      }
    }
    if (sorted.size() > maxCollections) out.add(row(base.and("collection", "(other)").and("collection_id", ""), other));
    return out;
  }

  private Future<Boolean> hasLangChainTables() {
    return timed("langchain_tables", "SELECT to_regclass('langchain_pg_collection') IS NOT NULL AND "
        + "to_regclass('langchain_pg_embedding') IS NOT NULL AS present")
        .map(rows -> rows.iterator().next().getBoolean("present"))
        .otherwise(false);
  }

  /** Runs one query, records its duration and outcome, applies {@code use}; never fails. */
  private Future<Void> query(String name, String sql, java.util.function.Consumer<RowSet<Row>> use) {
    return timed(name, sql).map(rows -> {
      use.accept(rows);
      return (Void) null;
    }).otherwiseEmpty();
  }

  private Future<RowSet<Row>> timed(String name, String sql) {
    long start = System.nanoTime();
    // The statement timeout bounds the server; this bounds a network that stopped answering.
    return pool.query(sql).execute().timeout(queryTimeout.toMillis() + 1_000, TimeUnit.MILLISECONDS).andThen(done ->
        metrics.query(target, name, Duration.ofNanos(System.nanoTime() - start), done.succeeded()));
  }

  private static GaugeTable.Row row(Tags tags, double value) {
    return new GaugeTable.Row(tags, value);
  }

  private static String table(String schema, String table) {
    return schema.equals("public") ? table : schema + "." + table;
  }

  private static String ident(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  Future<Void> close() {
    return pool.close();
  }
}
