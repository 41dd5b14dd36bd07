package io.langconnect.gitops.soak;

import static io.langconnect.gitops.testenv.Scrapes.value;

import io.fabric8.kubernetes.api.model.Pod;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The soak: the stack on the test node, a seeded driver injecting mixed faults for the run's minutes, the invariants
 * checked the whole time and at the end, and a table of what happened. A run is replayed with its seed (the same
 * faults in the same order; their timing is the machine's).
 */
final class Soak {

  /** How long each environment may take to be Ready at the head commit after a fault. */
  static final Duration BOUND = Duration.ofMinutes(3);

  /** {@code faults}: the names of the kinds to inject, or empty for all of them. */
  record Options(Duration duration, int environments, long seed, List<String> faults) {}

  /** One fault as injected: its kind, when (seconds into the run), what it did, and how long convergence took. */
  record Injected(String kind, boolean tookAServerAway, long at, String what, Duration converged) {}

  private final LocalControlPlane plane;
  private final Options options;
  private final Path tmp;
  private final List<Injected> injected = new ArrayList<>();

  Soak(LocalControlPlane plane, Options options, Path tmp) {
    this.plane = plane;
    this.options = options;
    this.tmp = tmp;
  }

  /** Runs the soak; returns the invariants that broke (empty when everything held) after printing the table. */
  List<String> run() throws Exception {
    System.out.printf("[soak] seed %d, %d minutes, %d environments%n", options.seed(), options.duration().toMinutes(),
        options.environments());
    Random random = new Random(options.seed());
    try (SoakStack stack = new SoakStack(plane, tmp, options.environments())) {
      long setup = System.nanoTime();
      stack.install();
      SoakEnvironment prod = stack.environment("prod");
      stack.query(prod, "CREATE TABLE soak_rows (id int PRIMARY KEY, body text)");
      stack.query(prod, "INSERT INTO soak_rows SELECT i, md5(i::text) FROM generate_series(1, 1000) i");
      String rowsBefore = rowsChecksum(stack, prod);
      stack.addDocuments(prod, "soak", 5);
      System.out.printf("[soak] set up in %d s%n", (System.nanoTime() - setup) / 1_000_000_000);

      Instant started = Instant.now();
      String auditFrom = started.toString();
      try (Invariants invariants = new Invariants(stack, started);
           ControllerProcesses processes = new ControllerProcesses(stack, started)) {
        invariants.makeBystanders(plane.uniqueNamespace("soak-bystanders"));
        invariants.start();
        processes.start();
        Faults faults = new Faults(stack, random, invariants);
        List<Faults.Kind> kinds = faults.kinds(options.faults());
        int total = kinds.stream().mapToInt(Faults.Kind::weight).sum();
        Instant end = started.plus(options.duration());
        while (Instant.now().isBefore(end)) {
          Faults.Kind kind = pick(kinds, random.nextInt(total));
          long at = invariants.now().toSeconds();
          String what;
          try {
            what = kind.action().run();
          } catch (Exception e) {
            what = "the fault itself failed: " + e.getMessage();
          }
          Duration converged = awaitConvergence(stack);
          injected.add(new Injected(kind.name(), kind.takesAServerAway(), at, what, converged));
          System.out.printf("[soak %4ds] %s: %s; converged %s%n", at, kind.name(), what,
              converged == null ? "NOT within " + BOUND.toSeconds() + " s" : "in " + converged.toMillis() + " ms");
          if (converged == null) {
            invariants.convergence.broke(invariants.now(), "after " + kind.name() + " (" + what + "):\n" + stack.snapshot());
          }
          Thread.sleep(random.nextInt(3_000));
        }

        // The end: nothing injected any more, everything looked at once more.
        try {
          Duration last = awaitConvergence(stack);
          System.out.printf("[soak] the faults stopped; converged %s%n", last == null ? "NOT within the bound" : "in "
              + last.toMillis() + " ms");
          if (last == null) invariants.convergence.broke(invariants.now(), "at the end:\n" + stack.snapshot());
          processes.look(true);
          invariants.finalLook();
          try {
            String rowsAfter = rowsChecksum(stack, prod);
            if (!rowsBefore.equals(rowsAfter)) {
              invariants.rows.broke(invariants.now(), "checksum " + rowsAfter + ", was " + rowsBefore);
            }
          } catch (RuntimeException e) {
            invariants.rows.broke(invariants.now(), "prod's database did not answer: " + e.getMessage());
          }
          try {
            checkMetrics(stack, invariants);
          } catch (RuntimeException e) {
            invariants.metrics.broke(invariants.now(), "prod's database did not answer: " + e.getMessage());
          }
          checkHeap(processes, invariants);
          checkErrors(processes, invariants);
          printTable(stack, invariants, processes, auditFrom);
        } finally {
          processes.keepLogs(Path.of("target", "soak-logs"));
        }
        return invariants.all().stream().filter(c -> !c.held()).map(c -> c.name + ": " + c.outcome()).toList();
      }
    }
  }

  private static Faults.Kind pick(List<Faults.Kind> kinds, int draw) {
    for (Faults.Kind kind : kinds) {
      if (draw < kind.weight()) return kind;
      draw -= kind.weight();
    }
    throw new IllegalStateException("no kind for " + draw);
  }

  private static Duration awaitConvergence(SoakStack stack) throws InterruptedException {
    long start = System.nanoTime();
    while (System.nanoTime() - start < BOUND.toNanos()) {
      if (stack.converged()) return Duration.ofNanos(System.nanoTime() - start);
      Thread.sleep(250);
    }
    return null;
  }

  private static String rowsChecksum(SoakStack stack, SoakEnvironment prod) {
    return stack.query(prod, "SELECT count(*) || ':' || md5(string_agg(id || body, ',' ORDER BY id)) FROM soak_rows")
        .getString(0);
  }

  // ---------------------------------------------------------------------------------------------------------
  // The end

  /** The leader's scrape says what the cluster and databases say; a standby's holds no observed series. */
  private static void checkMetrics(SoakStack stack, Invariants invariants) throws Exception {
    SoakEnvironment prod = stack.environment("prod");
    long embeddings = stack.query(prod, "SELECT count(*) FROM langchain_pg_embedding e JOIN langchain_pg_collection c"
        + " ON e.collection_id = c.uuid WHERE coalesce(c.cmetadata->>'name', c.name) = 'soak'").getLong(0);
    String last = "";
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      last = metricsDisagreement(stack, embeddings);
      if (last.isEmpty()) return;
      Thread.sleep(1_000);
    }
    invariants.metrics.broke(invariants.now(), last);
  }

  private static String metricsDisagreement(SoakStack stack, long embeddings) {
    Pod leader = stack.leader().orElse(null);
    if (leader == null) return "no leader";
    String scrape = stack.scrape(leader);
    for (SoakEnvironment env : stack.present()) {
      if (value(scrape, "langconnect_postgres_up", env.namespace) != 1) return env + ": postgres_up is not 1";
      double available = value(scrape, "langconnect_deployment_replicas", env.namespace, "component=\"langconnect\"",
          "state=\"available\"");
      if (available != env.replicas) return env + ": LangConnect available " + available + ", committed " + env.replicas;
    }
    double counted = value(scrape, "langconnect_vector_collection_embeddings", stack.environment("prod").namespace,
        "collection=\"soak\"");
    if (counted != embeddings) return "prod: collection soak counted " + counted + ", the database holds " + embeddings;
    for (Pod pod : stack.controllerPods()) {
      if (pod.getMetadata().getName().equals(leader.getMetadata().getName()) || !SoakStack.ready(pod)) continue;
      if (stack.scrape(pod).contains("langconnect_postgres_up{")) return "the standby " + pod.getMetadata().getName()
          + " exports observed series";
    }
    return "";
  }

  /**
   * Each controller process sampled at least twice a minute or more apart: its heap after a full GC at the end is at
   * most a quarter (and 16 MiB) above its first sample.
   */
  private static void checkHeap(ControllerProcesses processes, Invariants invariants) {
    for (ControllerProcesses.Instance instance : processes.instances()) {
      if (instance.heap.size() < 2) continue;
      long[] first = instance.heap.get(0);
      long[] last = instance.heap.get(instance.heap.size() - 1);
      if (last[0] - first[0] < 60) continue;
      if (last[1] > first[1] * 1.25 + 16 * 1024) {
        invariants.heap.broke(invariants.now(), "%s: %d KiB after GC at %d s, %d KiB at %d s".formatted(instance.pod,
            last[1], last[0], first[1], first[0]));
      }
    }
  }

  /**
   * ERROR lines are an injected fault's report when they fall in its window: from its start until a minute after it
   * ended (the controller's retries report the last failure after their back-off). Faults that take a server away:
   * the API server, etcd, git, the leader.
   */
  private void checkErrors(ControllerProcesses processes, Invariants invariants) {
    Instant started = Instant.now().minus(invariants.now());
    for (ControllerProcesses.Instance instance : processes.instances()) {
      for (String line : instance.lines) {
        Invariants.LogError error = Invariants.LogError.parse(instance.pod, line);
        if (error == null) continue;
        long at = Duration.between(started, error.at()).toSeconds();
        boolean expected = injected.stream().anyMatch(f -> f.tookAServerAway() && at >= f.at() - 1
            && at <= f.at() + (f.converged() == null ? BOUND.toSeconds() : f.converged().toSeconds()) + 60);
        if (!expected) invariants.errors.broke(invariants.now(), "at " + at + " s, " + error.pod() + ": " + error.message());
      }
    }
  }

  private void printTable(SoakStack stack, Invariants invariants, ControllerProcesses processes, String auditFrom)
      throws Exception {
    StringBuilder out = new StringBuilder("\n[soak] seed %d, %d minutes, %d environments%n".formatted(options.seed(),
        options.duration().toMinutes(), options.environments()));
    out.append("%-44s %5s %12s %12s%n".formatted("fault", "count", "median ms", "max ms"));
    Map<String, List<Long>> byKind = new LinkedHashMap<>();
    for (Injected f : injected) {
      byKind.computeIfAbsent(f.kind(), k -> new ArrayList<>()).add(f.converged() == null ? -1 : f.converged().toMillis());
    }
    byKind.forEach((kind, times) -> {
      List<Long> sorted = times.stream().sorted().toList();
      out.append("%-44s %5d %12s %12s%n".formatted(kind, times.size(),
          sorted.get(0) < 0 ? "unbounded" : sorted.get(sorted.size() / 2), sorted.get(0) < 0 ? "-" : sorted.get(sorted.size() - 1)));
    });
    out.append("faults injected: %d; convergence bound %d s%n".formatted(injected.size(), BOUND.toSeconds()));
    out.append("API writes by the controller: %d; its requests through the fault proxy: %d%n"
        .formatted(controllerWrites(auditFrom), stack.apiProxy.requestCount()));
    out.append("syncs (both replicas, each since its last start): %.0f%n".formatted(stack.controllerPods().stream()
        .mapToDouble(p -> sum(stack.scrape(p), "langconnect_sync_total{")).sum()));
    out.append("backup Jobs succeeded: %d%n".formatted(stack.environments.stream().mapToLong(env -> stack.admin.batch().v1()
        .jobs().inNamespace(env.namespace).list().getItems().stream().filter(j -> j.getStatus() != null
            && j.getStatus().getSucceeded() != null && j.getStatus().getSucceeded() > 0).count()).sum()));
    out.append("claims and volumes watched: %d%n".formatted(invariants.claimsWatched()));
    for (ControllerProcesses.Instance instance : processes.instances()) {
      out.append("controller %s %s: %d log lines, heap after GC (s:KiB) %s%n".formatted(instance.pod,
          instance.containerId.substring(0, 12), instance.lines.size(),
          instance.heap.stream().map(h -> h[0] + ":" + h[1]).toList()));
    }
    for (Invariants.Check check : invariants.all()) out.append("%-82s %s%n".formatted(check.name, check.outcome()));
    System.out.println(out);
    Path report = Path.of("target", "soak-report.txt");
    Files.createDirectories(report.getParent());
    StringBuilder log = new StringBuilder(out);
    for (Injected f : injected) log.append("%5d s  %-40s %s (%s)%n".formatted(f.at(), f.kind(), f.what(),
        f.converged() == null ? "not converged" : f.converged().toMillis() + " ms"));
    Files.writeString(report, log);
  }

  private static double sum(String scrape, String prefix) {
    return scrape.lines().filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** Writes (create, update, patch, delete) the controller's ServiceAccount made, from the API server's audit log. */
  private long controllerWrites(String since) throws Exception {
    String user = "system:serviceaccount:" + SoakStack.CONTROLLER_NS + ":langconnect-gitops";
    Instant from = Instant.parse(since);
    try (var lines = Files.lines(Path.of(plane.auditLog()))) {
      return lines.map(JsonObject::new)
          .filter(e -> user.equals(e.getJsonObject("user", new JsonObject()).getString("username")))
          .filter(e -> List.of("create", "update", "patch", "delete", "deletecollection").contains(e.getString("verb")))
          .filter(e -> !Instant.parse(e.getString("requestReceivedTimestamp")).isBefore(from))
          .filter(e -> !"leases".equals(e.getJsonObject("objectRef", new JsonObject()).getString("resource")))
          .count();
    }
  }
}
