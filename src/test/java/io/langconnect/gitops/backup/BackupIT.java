package io.langconnect.gitops.backup;

import static io.langconnect.gitops.testenv.LocalControlPlane.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.cli.CliTest;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.testenv.JobsSucceed;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.values.EnvironmentValues;
import io.langconnect.gitops.values.ValuesFixture;
import io.vertx.sqlclient.Pool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The CronJob's own script against real PostgreSQL with LangChain data, and the backup Jobs against the API server. */
@ExtendWith(LocalControlPlane.class)
class BackupIT {

  @TempDir
  Path backups;

  private static final String VALUES = """
      namespace: %s
      langconnect:
        image:
          repository: registry.example.com/langconnect
      postgres:
        auth:
          password: backup-test
        persistence:
          enabled: true
      backup:
        retention: 2
      """;

  private static CronJob cronJob(List<HasMetadata> objects) {
    return objects.stream().filter(CronJob.class::isInstance).map(CronJob.class::cast).findFirst().orElseThrow();
  }

  /** Runs the script exactly as the CronJob carries it, with the CronJob's variables pointed at the local database. */
  private static int runScript(LocalControlPlane plane, CronJob cron, String database, Path dir, Map<String, String> overrides)
      throws Exception {
    var container = cron.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getContainers().get(0);
    List<String> command = new ArrayList<>(container.getCommand());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    for (EnvVar var : container.getEnv()) if (var.getValue() != null) env.put(var.getName(), var.getValue());
    var pg = plane.postgres(database);
    env.put("PGHOST", pg.getHost());
    env.put("PGPORT", Integer.toString(pg.getPort()));
    env.put("PGDATABASE", database);
    env.put("PGPASSWORD", "backup-test");
    env.put("BACKUP_DIR", dir.toString());
    env.put("PATH", "/usr/lib/postgresql/15/bin:" + env.get("PATH"));
    env.putAll(overrides);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes());
    int code = process.waitFor();
    System.out.print(output);
    return code;
  }

  private static List<String> dumps(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static String checksum(LocalControlPlane plane, String database) {
    Pool pool = plane.pool(database);
    try {
      return await(pool.query("SELECT count(*) || ':' || md5(string_agg(id || embedding::text || document || cmetadata::text,"
          + " ',' ORDER BY id)) AS sum FROM langchain_pg_embedding").execute()).iterator().next().getString("sum");
    } finally {
      pool.close();
    }
  }

  @Test
  void scriptDumpsVerifiesKeepsRetentionAndRestoresExactly(LocalControlPlane plane) throws Exception {
    String database = plane.newDatabase();
    var pg = plane.postgres(database);
    Process data = new ProcessBuilder(plane.langchainPython(), "test-support/langchain/make_collections.py",
        "postgresql+psycopg://postgres@" + pg.getHost() + ":" + pg.getPort() + "/" + database,
        "handbook:user-1:8000:32", "faq:user-2:2000:32").redirectErrorStream(true).start();
    String made = new String(data.getInputStream().readAllBytes());
    assertThat(data.waitFor()).as(made).isZero();
    EnvironmentValues values = ValuesFixture.folder().env("prod", VALUES.formatted("langconnect-prod")).valid("prod");
    CronJob cron = cronJob(StackRenderer.render(values, Optional.empty()));

    for (int i = 0; i < 4; i++) {
      assertThat(runScript(plane, cron, database, backups, Map.of())).isZero();
      Thread.sleep(1_100);
    }
    List<String> kept = dumps(backups);
    assertThat(kept).hasSize(2).allMatch(name -> name.matches(database + "-\\d{8}T\\d{6}Z\\.dump"));

    int failed = runScript(plane, cron, database, backups, Map.of("PGPORT", "1"));
    assertThat(failed).isNotZero();
    assertThat(dumps(backups)).as("a failed dump deletes nothing and leaves nothing half-written").isEqualTo(kept);

    String fresh = plane.newDatabase();
    EnvironmentValues restoreValues = values;
    var restore = io.langconnect.gitops.render.BackupJobs.restoreJob(restoreValues, "latest", "restore")
        .getSpec().getTemplate().getSpec().getContainers().get(0);
    ProcessBuilder builder = new ProcessBuilder(restore.getCommand()).redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    restore.getEnv().stream().filter(v -> v.getValue() != null).forEach(v -> env.put(v.getName(), v.getValue()));
    env.put("PGHOST", pg.getHost());
    env.put("PGPORT", Integer.toString(pg.getPort()));
    env.put("PGDATABASE", fresh);
    env.put("BACKUP_DIR", backups.toString());
    env.put("PATH", "/usr/lib/postgresql/15/bin:" + env.get("PATH"));
    // The dumps are named after the source database; the restore picks the newest of the target's name.
    Files.copy(backups.resolve(kept.get(1)), backups.resolve(fresh + kept.get(1).substring(database.length())));
    Process restoring = builder.start();
    String log = new String(restoring.getInputStream().readAllBytes());
    assertThat(restoring.waitFor()).as(log).isZero();

    assertThat(checksum(plane, fresh)).isEqualTo(checksum(plane, database)).startsWith("10000:");
  }

  /** LangChain's tables with {@code embeddings} rows in a new database of the test server. */
  private static String databaseWithEmbeddings(LocalControlPlane plane, int embeddings) throws Exception {
    String database = plane.newDatabase();
    var pg = plane.postgres(database);
    Process data = new ProcessBuilder(plane.langchainPython(), "test-support/langchain/make_collections.py",
        "postgresql+psycopg://postgres@" + pg.getHost() + ":" + pg.getPort() + "/" + database,
        "handbook:user-1:" + embeddings + ":32").redirectErrorStream(true).start();
    String made = new String(data.getInputStream().readAllBytes());
    assertThat(data.waitFor()).as(made).isZero();
    return database;
  }

  /** The restore Job's script, run as the Job runs it, against {@code database} of the test server. */
  private static int runRestore(LocalControlPlane plane, String database, Path dir, String file) throws Exception {
    EnvironmentValues values = ValuesFixture.folder().env("prod", VALUES.formatted("langconnect-prod")).valid("prod");
    var restore = io.langconnect.gitops.render.BackupJobs.restoreJob(values, file, "restore")
        .getSpec().getTemplate().getSpec().getContainers().get(0);
    ProcessBuilder builder = new ProcessBuilder(restore.getCommand()).redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    restore.getEnv().stream().filter(v -> v.getValue() != null).forEach(v -> env.put(v.getName(), v.getValue()));
    var pg = plane.postgres(database);
    env.put("PGHOST", pg.getHost());
    env.put("PGPORT", Integer.toString(pg.getPort()));
    env.put("PGDATABASE", database);
    env.put("BACKUP_DIR", dir.toString());
    env.put("PATH", "/usr/lib/postgresql/15/bin:" + env.get("PATH"));
    Process restoring = builder.start();
    System.out.print(new String(restoring.getInputStream().readAllBytes()));
    return restoring.waitFor();
  }

  @Test
  void aRestoreThatFailsHalfWayLeavesTheDatabaseAsItWas(LocalControlPlane plane) throws Exception {
    String database = databaseWithEmbeddings(plane, 3000);
    EnvironmentValues values = ValuesFixture.folder().env("prod", VALUES.formatted("langconnect-prod")).valid("prod");
    assertThat(runScript(plane, cronJob(StackRenderer.render(values, Optional.empty())), database, backups, Map.of()))
        .isZero();
    String dump = dumps(backups).get(0);
    // Cut short, as a download that stopped half way: its table of contents reads back, its data does not.
    byte[] whole = Files.readAllBytes(backups.resolve(dump));
    Files.write(backups.resolve(dump), java.util.Arrays.copyOf(whole, whole.length * 6 / 10));
    Pool pool = plane.pool(database);
    await(pool.query("INSERT INTO langchain_pg_collection (uuid, name, cmetadata) VALUES"
        + " ('00000000-0000-0000-0000-000000000001', 'written after the dump', '{}')").execute());
    pool.close();
    String before = checksum(plane, database);

    assertThat(runRestore(plane, database, backups, dump)).as("pg_restore fails on the cut dump").isNotZero();

    assertThat(checksum(plane, database)).as("nothing dropped, nothing half loaded").isEqualTo(before);
    Pool after = plane.pool(database);
    assertThat(await(after.query("SELECT count(*) AS n FROM langchain_pg_collection WHERE name = 'written after the dump'")
        .execute()).iterator().next().getLong("n")).isEqualTo(1);
    after.close();
  }

  @Test
  void keepDaysKeepsEveryDumpYoungerThanThatBeyondTheRetention(LocalControlPlane plane) throws Exception {
    String database = databaseWithEmbeddings(plane, 100);
    EnvironmentValues values = ValuesFixture.folder().env("prod", VALUES.formatted("langconnect-prod")
        + "  keepDays: 30\n").valid("prod");
    CronJob cron = cronJob(StackRenderer.render(values, Optional.empty()));
    for (int i = 0; i < 3; i++) {
      assertThat(runScript(plane, cron, database, backups, Map.of())).isZero();
      Thread.sleep(1_100);
    }
    // One from long ago, as a nightly run of a year ago left it.
    Files.copy(backups.resolve(dumps(backups).get(0)), backups.resolve(database + "-20251101T030000Z.dump"));
    assertThat(runScript(plane, cron, database, backups, Map.of())).isZero();
    assertThat(dumps(backups)).as("retention 2, but the four of today are younger than 30 days").hasSize(4)
        .noneMatch(name -> name.contains("20251101T030000Z"));
  }

  @Test
  void cronJobIsAcceptedAndBackupAndRestoreCommandsWork(LocalControlPlane plane, @TempDir Path valuesDir) throws Exception {
    String namespace = plane.uniqueNamespace("it-backup");
    Files.writeString(valuesDir.resolve("values-prod.yaml"), VALUES.formatted(namespace));
    EnvironmentValues values = ValuesFixture.folder().env("prod", VALUES.formatted(namespace)).valid("prod");
    new Applier(plane.admin(), new Retry(3, Duration.ofMillis(50), Duration.ofMillis(200)))
        .apply("prod", namespace, StackRenderer.render(values, Optional.empty()), "test", Inventory.empty("prod"),
            new Applier.Options(false, Duration.ZERO));
    CronJob live = plane.admin().batch().v1().cronjobs().inNamespace(namespace).withName("langconnect-postgres-backup").get();
    assertThat(live.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");

    String state = plane.uniqueNamespace("it-backup-state");
    String[] common = {"--values", valuesDir.toString(), "--kubeconfig", plane.kubeconfig(), "--env", "prod",
        "--state-namespace", state};
    CliTest.Run backup = CliTest.run(concat("backup", common));
    assertThat(backup.exit()).as(backup.err()).isZero();
    String jobName = backup.out().strip();
    Job job = plane.admin().batch().v1().jobs().inNamespace(namespace).withName(jobName).get();
    assertThat(job.getMetadata().getOwnerReferences()).singleElement().satisfies(owner -> {
      assertThat(owner.getKind()).isEqualTo("CronJob");
      assertThat(owner.getUid()).isEqualTo(live.getMetadata().getUid());
    });

    int jobsBefore = plane.admin().batch().v1().jobs().inNamespace(namespace).list().getItems().size();
    CliTest.Run dryRun = CliTest.run(concat("restore", concat("--backup", concat("latest", common))));
    assertThat(dryRun.exit()).isEqualTo(1);
    assertThat(dryRun.out()).startsWith("would restore the newest backup on langconnect-postgres-backups into database"
        + " postgres of prod");
    assertThat(plane.admin().batch().v1().jobs().inNamespace(namespace).list().getItems()).hasSize(jobsBefore);

    // No node here: the safety backup's and the restore's pods are ended as a kubelet would end them.
    CliTest.Run restore;
    try (JobsSucceed kubelet = JobsSucceed.in(plane.admin(), namespace)) {
      restore = CliTest.run(concat("restore", concat("--backup", concat("latest", concat("--confirm", common)))));
    }
    assertThat(restore.exit()).as(restore.err()).isZero();
    // Suspended and LangConnect at 0 meanwhile, a safety backup first, and all of it undone after.
    assertThat(restore.err()).contains("prod: suspended and LangConnect scaled to 0 for the restore")
        .contains("prod: safety backup first, Job langconnect-postgres-backup-manual-")
        .contains("prod: LangConnect scaled back to 1, resumed");
    Job safety = plane.admin().batch().v1().jobs().inNamespace(namespace).list().getItems().stream()
        .filter(j -> restore.err().contains("Job " + j.getMetadata().getName() + " ")).findFirst().orElseThrow();
    assertThat(safety.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
        .anySatisfy(v -> assertThat(v.getName() + "=" + v.getValue()).isEqualTo("DUMP_SUFFIX=-before-restore"));
    assertThat(plane.admin().apps().deployments().inNamespace(namespace).withName("langconnect-langconnect").get()
        .getSpec().getReplicas()).isEqualTo(1);
    assertThat(plane.admin().configMaps().inNamespace(state).list().getItems())
        .noneMatch(cm -> cm.getData() != null && cm.getData().containsKey("suspendedBy"));
    Job restoreJob = plane.admin().batch().v1().jobs().inNamespace(namespace).withName(restore.out().strip()).get();
    assertThat(restoreJob.getSpec().getTemplate().getSpec().getVolumes().get(0).getPersistentVolumeClaim().getClaimName())
        .isEqualTo("langconnect-postgres-backups");
  }

  private static String[] concat(String first, String... rest) {
    String[] out = new String[rest.length + 1];
    out[0] = first;
    System.arraycopy(rest, 0, out, 1, rest.length);
    return out;
  }
}
