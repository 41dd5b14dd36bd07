package io.langconnect.gitops.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The collector's meters, all per environment (labels {@code environment}, {@code namespace} and what each
 * needs). Values are set by the collector on its schedule and served from memory, so a scrape never waits on a
 * database. The README lists them.
 */
final class ObserverMetrics {

  final MeterRegistry registry;
  final GaugeTable postgresUp;
  final GaugeTable probeDuration;
  final GaugeTable langconnectUp;
  final GaugeTable replicas;
  final GaugeTable restarts;
  final GaugeTable databaseSize;
  final GaugeTable pgvectorInfo;
  final GaugeTable vectorColumnDimensions;
  final GaugeTable vectorColumnWithoutIndex;
  final GaugeTable tableSize;
  final GaugeTable tableIndexSize;
  final GaugeTable liveTuples;
  final GaugeTable deadTuples;
  final GaugeTable vacuumAge;
  final GaugeTable analyzeAge;
  final GaugeTable annIndexInfo;
  final GaugeTable annIndexSize;
  final GaugeTable annIndexScans;
  final GaugeTable indexBuildProgress;
  final GaugeTable collectionEmbeddings;
  final GaugeTable collectionEmbeddingsEstimate;
  final GaugeTable collectionCountedAt;
  final GaugeTable lastCollected;
  final GaugeTable backupLastSuccess;
  final GaugeTable backupLastSchedule;
  final GaugeTable backupAge;
  final GaugeTable backupCreated;
  final GaugeTable backupSuspended;
  final GaugeTable backupLastJobFailed;
  final GaugeTable backupFailedJobs;
  final GaugeTable backupUploadSize;
  final GaugeTable backupObjectStoreNewest;
  final GaugeTable backupObjectStoreAge;

  /** Every table, so that an environment that went away is forgotten in all of them. */
  private final List<GaugeTable> all = new ArrayList<>();

  private final MetricsExposition exposition;

  ObserverMetrics(MetricsExposition exposition) {
    this.exposition = exposition;
    this.registry = exposition.registry();
    postgresUp = table("langconnect.postgres.up", "1 when the database accepts a connection and answers SELECT 1", null);
    probeDuration = table("langconnect.postgres.probe.duration", "Time to connect and read the server version", "seconds");
    langconnectUp = table("langconnect.api.up", "1 when LangConnect's GET /health answers 200", null);
    replicas = table("langconnect.deployment.replicas", "Replicas by component and state (desired, ready, available)", null);
    restarts = table("langconnect.container.restarts", "Container restarts of the component's pods, as the kubelet counts them", null);
    databaseSize = table("langconnect.database.size", "pg_database_size of the environment's database", "bytes");
    pgvectorInfo = table("langconnect.pgvector.info", "pgvector's installed version (value 1)", null);
    vectorColumnDimensions = table("langconnect.vector.column.dimensions", "Dimension of each vector column (declared, or sampled when undeclared)", null);
    vectorColumnWithoutIndex = table("langconnect.vector.column.without.ann.index", "1 when no HNSW or IVFFlat index covers the vector column: searches scan sequentially", null);
    tableSize = table("langconnect.vector.table.size", "Table size with TOAST, of tables holding vector columns", "bytes");
    tableIndexSize = table("langconnect.vector.table.index.size", "Size of all indexes of tables holding vector columns", "bytes");
    liveTuples = table("langconnect.vector.table.live.tuples", "Live rows (estimate, pg_stat_user_tables)", null);
    deadTuples = table("langconnect.vector.table.dead.tuples", "Dead rows waiting for vacuum", null);
    vacuumAge = table("langconnect.vector.table.last.vacuum.age", "Time since the last (auto)vacuum", "seconds");
    analyzeAge = table("langconnect.vector.table.last.analyze.age", "Time since the last (auto)analyze", "seconds");
    annIndexInfo = table("langconnect.vector.index.info", "An ANN index, with its method (hnsw, ivfflat) and opclass (value 1)", null);
    annIndexSize = table("langconnect.vector.index.size", "Size of each ANN index", "bytes");
    annIndexScans = table("langconnect.vector.index.scans", "Scans of each ANN index since statistics were reset", null);
    indexBuildProgress = table("langconnect.vector.index.build.progress.ratio", "Progress of an index build in progress, 0 to 1", null);
    collectionEmbeddings = table("langconnect.vector.collection.embeddings", "Embeddings per LangChain collection (exact count, slow cadence)", null);
    collectionEmbeddingsEstimate = table("langconnect.vector.collection.embeddings.estimate", "Embeddings per LangChain collection (planner estimate, every cycle)", null);
    collectionCountedAt = table("langconnect.vector.collection.counted.timestamp", "When the exact count per collection was last taken", "seconds");
    backupLastSuccess = table("langconnect.backup.last.success.timestamp", "When the backup CronJob last completed a Job successfully", "seconds");
    backupLastSchedule = table("langconnect.backup.last.schedule.timestamp", "When the backup CronJob last started a Job", "seconds");
    backupAge = table("langconnect.backup.age", "Time since the newest successful backup or, when none has succeeded"
        + " yet, since the backup CronJob was created", "seconds");
    backupCreated = table("langconnect.backup.cronjob.created.timestamp", "When the backup CronJob was created", "seconds");
    backupSuspended = table("langconnect.backup.suspended", "1 when the backup CronJob is suspended: no backup will run", null);
    backupLastJobFailed = table("langconnect.backup.last.job.failed", "1 when the newest finished backup Job failed", null);
    backupFailedJobs = table("langconnect.backup.failed.jobs", "Backup Jobs (kept in history) that failed", null);
    backupUploadSize = table("langconnect.backup.upload.size.bytes",
        "Size of the dump the newest successful backup uploaded to the object store", null);
    backupObjectStoreNewest = table("langconnect.backup.object.store.newest.timestamp.seconds",
        "When the newest dump in the object store was taken (from its name, as the uploader reported it)", null);
    backupObjectStoreAge = table("langconnect.backup.object.store.age.seconds",
        "Seconds since the newest dump reached the object store (since the CronJob was made, while none has)", null);
    lastCollected = table("langconnect.collector.last.success.timestamp", "When the environment's probes and sizes were last collected", "seconds");
  }

  void query(DatabaseTarget target, String query, Duration duration, boolean success) {
    queryDuration(target, query).record(duration);
    if (!success) errors(target, query).increment();
    exposition.changed();
  }

  /** The collector's queries of a database, at 0 before they first run (or fail). */
  void queriesKnown(DatabaseTarget target, List<String> queries) {
    queries.forEach(query -> errors(target, query));
    exposition.changed();
  }

  private Timer queryDuration(DatabaseTarget target, String query) {
    return Timer.builder("langconnect.collector.query.duration").description("Duration of each collector query")
        .tags(tags(target)).tag("query", query).register(registry);
  }

  private Counter errors(DatabaseTarget target, String query) {
    return Counter.builder("langconnect.collector.errors").description("Collector queries that failed or timed out")
        .tags(tags(target)).tag("query", query).register(registry);
  }

  private static Tags tags(DatabaseTarget target) {
    return Tags.of("environment", target.environment(), "namespace", target.namespace());
  }

  void forget(DatabaseTarget target) {
    all.forEach(table -> table.remove(target.key()));
    for (String name : List.of("langconnect.collector.query.duration", "langconnect.collector.errors")) {
      registry.find(name).tags(tags(target)).meters().forEach(registry::remove);
    }
    exposition.changed();
  }

  /** The tables leave the exposition (the verticle stopped). */
  void close() {
    exposition.removeAll(all);
  }

  private GaugeTable table(String name, String description, String baseUnit) {
    GaugeTable table = new GaugeTable(name, description, baseUnit, exposition::changed);
    all.add(table);
    exposition.add(table);
    return table;
  }
}
