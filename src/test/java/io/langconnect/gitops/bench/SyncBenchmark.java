package io.langconnect.gitops.bench;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.controller.Controller;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.testenv.FaultProxy;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.PodReadiness;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * Prints the sync figures the README quotes; not a test. Needs the local control plane
 * (scripts/bench.sh starts it). Three measurements:
 * 1. commit-to-applied latency for one environment (poll interval 500 ms), median and p99 over 30 commits;
 * 2. the cost of an idle poll: wall time, API writes and git fetches while nothing changes;
 * 3. the first sync of 200 environments: wall time and heap.
 */
public final class SyncBenchmark {

  private static final LocalControlPlane PLANE = new LocalControlPlane();

  /** Ends by itself, on success or failure: exec:java would otherwise wait for informer and client threads. */
  public static void main(String[] args) {
    try {
      run(args);
      System.exit(0);
    } catch (Throwable e) {
      e.printStackTrace();
      System.exit(1);
    }
  }

  private static void run(String[] args) throws Exception {
    int environments = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    Path tmp = Files.createTempDirectory("lcg-bench");
    Vertx vertx = Vertx.vertx();
    try {
      String part = args.length > 1 ? args[1] : "all";
      if (part.equals("all")) latencyAndIdle(vertx, tmp);
      if (part.equals("all") || part.equals("webhook")) {
        // Side by side: the debounce window that was the default before, then today's default (a push polls at once).
        webhookLatency(vertx, tmp, Duration.ofMillis(200), "debounce 200 ms (the default before)");
        webhookLatency(vertx, tmp, ControllerConfig.defaults().webhooks().debounce(), "default settings");
      }
      if (part.equals("all") || part.equals("many")) manyEnvironments(vertx, tmp, environments);
      if (part.equals("peer")) sideBySide(vertx, tmp, environments);
      if (part.equals("flux")) {
        try (FaultProxy proxy = FaultProxy.start(PLANE)) {
          System.out.println(FluxPeer.run(PLANE, Path.of(System.getProperty("flux.dir")), tmp, environments,
              "flux-" + UUID.randomUUID().toString().substring(0, 4), COMMON_VALUES, proxy));
        }
      }
    } finally {
      vertx.close().await();
      PLANE.afterEach(null);
    }
  }

  private static ControllerConfig config(String url, Path tmp, String stateNs, Duration interval, int parallelism) {
    return new ControllerConfig(
        new ControllerConfig.Git(url, "main", ".", interval, Duration.ofSeconds(10),
            tmp.resolve("clone-" + UUID.randomUUID()).toString(), null),
        new ControllerConfig.Kubernetes(stateNs, null, false, null, null),
        new ControllerConfig.Sync(Duration.ofHours(1), Duration.ofSeconds(60), parallelism, 5),
        new ControllerConfig.Http(0, "127.0.0.1", null), null, null, null, null);
  }

  private static void latencyAndIdle(Vertx vertx, Path tmp) throws Exception {
    KubernetesClient admin = PLANE.admin();
    String ns = PLANE.uniqueNamespace("bench-latency");
    String state = PLANE.uniqueNamespace("bench-state");
    try (PodReadiness kubelet = PodReadiness.markReady(admin, "bench-");
         ValuesRepo repo = ValuesRepo.create(PLANE, tmp.resolve("latency"));
         FaultProxy proxy = FaultProxy.start(PLANE);
         KubernetesClient counted = PLANE.client(proxy.url(), PLANE.adminToken())) {
      repo.write("values-dev.yaml", values(ns, 1)).commitAndPush("dev");
      try (Controller controller = new Controller(vertx, counted, config(repo.gitUrl(), tmp, state, Duration.ofMillis(500), 2))) {
        controller.start().await();
        waitFor(() -> synced(controller, "dev"));
        List<Long> latencies = new ArrayList<>();
        String last = "";
        for (int i = 2; i <= 31; i++) {
          int replicas = i;
          repo.write("values-dev.yaml", values(ns, replicas));
          long start = System.nanoTime();
          last = repo.commitAndPush("replicas " + replicas);
          waitFor(() -> replicas(admin, ns) == replicas);
          latencies.add((System.nanoTime() - start) / 1_000_000);
        }
        String lastRevision = last;
        // The sync that applied the last commit also records its inventory; let it finish before measuring idle.
        waitFor(() -> controller.board().get("dev").map(s -> s.revision().equals(lastRevision)).orElse(false));
        Collections.sort(latencies);
        System.out.printf("commit-to-applied, 1 environment, poll interval 500 ms, %d commits: median %d ms, p99 %d ms,"
            + " min %d ms, max %d ms%n", latencies.size(), latencies.get(latencies.size() / 2),
            latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1), latencies.get(0), latencies.get(latencies.size() - 1));

        var fetchTimer = controller.registry().find("langconnect.git.fetch.duration").tag("result", "success").timer();
        long fetchesBefore = fetchTimer.count();
        int writesBefore = proxy.writeCount();
        var polls = controller.registry().find("langconnect.git.poll.duration").tag("outcome", "unchanged").timer();
        long pollsBefore = polls.count();
        double secondsBefore = polls.totalTime(java.util.concurrent.TimeUnit.SECONDS);
        Thread.sleep(10_000);
        long idlePolls = polls.count() - pollsBefore;
        System.out.printf("idle, 10 s: %d polls, %d API writes, %d git fetches; one idle poll (an ls-remote over git://)"
            + " takes %.1f ms on average%n", idlePolls, proxy.writeCount() - writesBefore, fetchTimer.count() - fetchesBefore,
            (polls.totalTime(java.util.concurrent.TimeUnit.SECONDS) - secondsBefore) * 1000 / Math.max(1, idlePolls));
      }
    }
  }

  /** Webhook received to environment applied, over 100 pushes; the poll interval is an hour, so only the webhook acts. */
  private static void webhookLatency(Vertx vertx, Path tmp, Duration debounce, String label) throws Exception {
    KubernetesClient admin = PLANE.admin();
    String ns = PLANE.uniqueNamespace("bench-webhook");
    String state = PLANE.uniqueNamespace("bench-state");
    Path secret = Files.writeString(tmp.resolve("secret"), "bench-secret");
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    try (PodReadiness kubelet = PodReadiness.markReady(admin, "bench-");
         ValuesRepo repo = ValuesRepo.create(PLANE, tmp.resolve("webhook-" + UUID.randomUUID()))) {
      String before = repo.write("values-dev.yaml", values(ns, 1)).commitAndPush("dev");
      ControllerConfig config = config(repo.gitUrl(), tmp, state, Duration.ofHours(1), 2)
          .withWebhooks(new ControllerConfig.Webhooks(new ControllerConfig.WebhookSecret(secret.toString(), null),
              null, null, null, debounce, null));
      try (Controller controller = new Controller(vertx, admin, config)) {
        controller.start().await();
        waitFor(() -> synced(controller, "dev"));
        var fetches = controller.registry().find("langconnect.git.fetch.duration").tag("result", "success").timer();
        var syncs = controller.registry().find("langconnect.sync.duration").timers();
        long fetchCount = fetches.count();
        double fetchSeconds = fetches.totalTime(java.util.concurrent.TimeUnit.SECONDS);
        long syncCount = syncs.stream().mapToLong(t -> t.count()).sum();
        double syncSeconds = syncs.stream().mapToDouble(t -> t.totalTime(java.util.concurrent.TimeUnit.SECONDS)).sum();
        List<Long> latencies = new ArrayList<>();
        for (int i = 2; i <= 101; i++) {
          int replicas = i;
          String after = repo.write("values-dev.yaml", values(ns, replicas)).commitAndPush("replicas " + replicas);
          byte[] body = ("{\"ref\":\"refs/heads/main\",\"before\":\"" + before + "\",\"after\":\"" + after
              + "\",\"commits\":[{\"id\":\"" + after + "\",\"added\":[],\"modified\":[\"values-dev.yaml\"],"
              + "\"removed\":[]}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
          before = after;
          long start = System.nanoTime();
          http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + controller.httpPort()
                  + "/webhook/github"))
              .header("Content-Type", "application/json").header("X-GitHub-Event", "push")
              .header("X-Hub-Signature-256", "sha256=" + io.langconnect.gitops.webhook.Signatures.hmacSha256Hex(
                  "bench-secret".getBytes(java.nio.charset.StandardCharsets.UTF_8), body))
              .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).build(),
              java.net.http.HttpResponse.BodyHandlers.discarding());
          waitFor(() -> replicas(admin, ns) == replicas);
          latencies.add((System.nanoTime() - start) / 1_000_000);
        }
        Collections.sort(latencies);
        System.out.printf("webhook-to-applied, 1 environment, %s, %d pushes: median %d ms, p99 %d ms,"
            + " min %d ms, max %d ms%n", label, latencies.size(), latencies.get(latencies.size() / 2),
            latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1), latencies.get(0), latencies.get(latencies.size() - 1));
        long syncsNow = syncs.stream().mapToLong(t -> t.count()).sum();
        System.out.printf("  of which, on average: git fetch %.0f ms (%d fetches), sync %.0f ms (%d syncs)%n",
            (fetches.totalTime(java.util.concurrent.TimeUnit.SECONDS) - fetchSeconds) * 1000 / (fetches.count() - fetchCount),
            fetches.count() - fetchCount,
            (syncs.stream().mapToDouble(t -> t.totalTime(java.util.concurrent.TimeUnit.SECONDS)).sum() - syncSeconds)
                * 1000 / Math.max(1, syncsNow - syncCount), syncsNow - syncCount);
      }
    }
  }

  /** What one tool's run over N environments measured, for the side-by-side table. */
  record Figures(int environments, double firstSyncSeconds, int requests, int writes, Map<String, Integer> kinds,
                 long memoryMiB, String memory, double idlePercent, String handEdit) {}

  private static final String COMMON_VALUES = "langconnect:\n  image:\n    repository: registry.example.com/langconnect\n"
      + "postgres:\n  auth:\n    password: bench-password\n";

  /**
   * Our controller, then Flux (scripts/flux-peer.sh built it; its directory in the system property flux.dir), over
   * the same N environments on the same API server, each through a fault proxy of its own that counts its requests;
   * the first run's namespaces are gone before the second starts.
   */
  private static void sideBySide(Vertx vertx, Path tmp, int count) throws Exception {
    Path fluxDir = Path.of(System.getProperty("flux.dir"));
    Figures ours = manyEnvironments(vertx, tmp, count);
    awaitNamespacesGone();
    Figures flux;
    try (FaultProxy proxy = FaultProxy.start(PLANE)) {
      flux = FluxPeer.run(PLANE, fluxDir, tmp, count, "flux-" + UUID.randomUUID().toString().substring(0, 4),
          COMMON_VALUES, proxy);
    }
    System.out.printf("%n%d environments (%d objects and a namespace each), same API server, same machine, one run:%n",
        count, 5);
    System.out.printf("%-34s %-34s %-34s %s%n", "", "langconnect-gitops", "Flux 2.9 (source/kustomize v1.9.0)",
        "Flux / ours");
    row("first sync (s)", "%.1f", ours.firstSyncSeconds(), flux.firstSyncSeconds());
    row("API requests per environment", "%.2f", (double) ours.requests() / count, (double) flux.requests() / count);
    row("API writes per environment", "%.2f", (double) ours.writes() / count, (double) flux.writes() / count);
    System.out.printf("%-34s %-34s %-34s %.2f%n", "memory (MiB)", ours.memoryMiB() + " (" + ours.memory() + ")",
        flux.memoryMiB() + " (" + flux.memory() + ")", (double) flux.memoryMiB() / Math.max(1, ours.memoryMiB()));
    row("idle CPU, 60 s once settled (%)", "%.2f", ours.idlePercent(), flux.idlePercent());
    System.out.printf("%-34s %-34s %-34s%n", "a hand edit corrected", ours.handEdit(), flux.handEdit());
    System.out.printf("  Flux's requests by kind, per environment: %s%n", perEnvironment(flux.kinds(), count));
  }

  private static void row(String what, String format, double ours, double flux) {
    System.out.printf("%-34s %-34s %-34s %.2f%n", what, String.format(format, ours), String.format(format, flux),
        flux / ours);
  }

  static String perEnvironment(Map<String, Integer> kinds, int count) {
    return String.join(", ", kinds.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .map(e -> String.format("%.2f %s", (double) e.getValue() / count, e.getKey())).toList());
  }

  static Map<String, Integer> difference(Map<String, Integer> after, Map<String, Integer> before) {
    Map<String, Integer> during = new java.util.TreeMap<>();
    after.forEach((kind, n) -> {
      int delta = n - before.getOrDefault(kind, 0);
      if (delta > 0) during.put(kind, delta);
    });
    return during;
  }

  /** Deletes the namespaces made so far and waits until they are gone, so that the next run starts on a quiet cluster. */
  private static void awaitNamespacesGone() throws InterruptedException {
    PLANE.afterEach(null);
    long start = System.nanoTime();
    waitFor(() -> PLANE.admin().namespaces().list().getItems().stream()
        .noneMatch(ns -> ns.getMetadata().getName().startsWith("bench-")));
    System.out.printf("  (the first run's namespaces were gone %d s after their deletion)%n",
        (System.nanoTime() - start) / 1_000_000_000);
  }

  private static Figures manyEnvironments(Vertx vertx, Path tmp, int count) throws Exception {
    String state = PLANE.uniqueNamespace("bench-state");
    String prefix = "bench-" + UUID.randomUUID().toString().substring(0, 4);
    try (ValuesRepo repo = ValuesRepo.create(PLANE, tmp.resolve("many"));
         FaultProxy proxy = FaultProxy.start(PLANE);
         KubernetesClient counted = PLANE.client(proxy.url(), PLANE.adminToken())) {
      repo.write("values.yaml", COMMON_VALUES);
      for (int i = 0; i < count; i++) {
        String ns = prefix + "-" + i;
        PLANE.uniqueNamespaceNamed(ns);
        repo.write("values-e" + i + ".yaml", "namespace: " + ns + "\n");
      }
      repo.commitAndPush(count + " environments");
      System.gc();
      long heapBefore = usedHeap();
      ControllerConfig config = config(repo.gitUrl(), tmp, state, Duration.ofSeconds(60), 4);
      config = config.withSync(new ControllerConfig.Sync(Duration.ofHours(1), Duration.ZERO, 4, 5));
      var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      long cpuStart = os.getProcessCpuTime();
      long start = System.nanoTime();
      try (Controller controller = new Controller(vertx, counted, config)) {
        controller.start().await();
        waitFor(() -> controller.board().all().size() == count
            && controller.board().all().stream().allMatch(s -> s.result() == EnvironmentStatus.Result.SYNCED));
        long took = (System.nanoTime() - start) / 1_000_000;
        Map<String, Integer> firstSync = proxy.requestsByKind();
        int writes = proxy.writeCount();
        double cpuShare = (os.getProcessCpuTime() - cpuStart) / 1e6 / took;
        long heapPeak = usedHeap();
        System.gc();
        System.out.printf("first sync of %d environments (%d objects, parallelism 4): %.1f s, %.1f ms per environment;"
                + " heap in use %d MiB at the end (%d MiB before, %d MiB after GC)%n", count, count * 5, took / 1000.0,
            (double) took / count, heapPeak >> 20, heapBefore >> 20, usedHeap() >> 20);
        System.out.printf("  this process used %.2f cores meanwhile (of 2): the rest went to the API server, etcd"
            + " and the cluster's controllers%n", cpuShare);
        int total = firstSync.values().stream().mapToInt(Integer::intValue).sum();
        System.out.printf("  API requests of the first sync: %.2f per environment (%d in all, the watches' lists and"
            + " opens included), by kind: %s%n", (double) total / count, total, String.join(", ",
            firstSync.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .map(e -> String.format("%.2f %s", (double) e.getValue() / count, e.getKey())).toList()));
        long drift = driftAmong(count, prefix);
        double idle = idleAmong(controller, proxy, count);
        System.gc();
        return new Figures(count, took / 1000.0, total, writes, firstSync, usedHeap() >> 20,
            "heap after GC, this process", idle, drift + " ms (median of 20, through its watches)");
      }
    }
  }

  /**
   * A hand edit of one object among all environments, corrected: scaled to 3, back to 1, 20 times. Before the
   * watches, nothing looked until the drift timer (5 min by default): half of that on average.
   */
  private static long driftAmong(int count, String prefix) throws InterruptedException {
    KubernetesClient admin = PLANE.admin();
    java.util.Random random = new java.util.Random(7);
    Thread.sleep(2_000); // the informers' first lists
    List<Long> latencies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      String ns = prefix + "-" + random.nextInt(count);
      var deployment = admin.apps().deployments().inNamespace(ns).withName("langconnect-langconnect");
      long start = System.nanoTime();
      deployment.scale(3);
      waitFor(() -> deployment.get().getSpec().getReplicas() == 1);
      latencies.add((System.nanoTime() - start) / 1_000_000);
    }
    Collections.sort(latencies);
    System.out.printf("drift of 1 object among %d environments corrected, 20 edits: median %d ms, max %d ms"
        + " (before the watches: at the next drift check, 5 min apart by default)%n", count,
        latencies.get(latencies.size() / 2), latencies.get(latencies.size() - 1));
    return latencies.get(latencies.size() / 2);
  }

  /**
   * Idle with every environment synced (none Ready: the node runs no bench pod, so each is looked at every 10 s):
   * the process's own CPU time over 60 s (the controller and this harness), and what reached the API server.
   */
  private static double idleAmong(Controller controller, FaultProxy proxy, int count) throws InterruptedException {
    settle(proxy);
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    var fetches = controller.registry().find("langconnect.git.fetch.duration").tag("result", "success").timer();
    long fetchesBefore = fetches == null ? 0 : fetches.count();
    int requestsBefore = proxy.requestCount();
    java.util.Map<String, Integer> kindsBefore = proxy.requestsByKind();
    int writesBefore = proxy.writeCount();
    long cpuBefore = os.getProcessCpuTime();
    long start = System.nanoTime();
    Thread.sleep(60_000);
    double cpu = (os.getProcessCpuTime() - cpuBefore) * 100.0 / (System.nanoTime() - start);
    System.out.printf("idle with %d environments, 60 s: %.2f%% of one core (this process), %d API requests"
            + " (watches re-opened included), %d API writes, %d git fetches%n", count, cpu,
        proxy.requestCount() - requestsBefore, proxy.writeCount() - writesBefore,
        (fetches == null ? 0 : fetches.count()) - fetchesBefore);
    proxy.requestsByKind().forEach((kind, n) -> {
      int during = n - kindsBefore.getOrDefault(kind, 0);
      if (during > 0) System.out.printf("  idle requests: %d %s%n", during, kind);
    });
    return cpu;
  }

  /**
   * Waits for the cluster to settle: it creates and fails to schedule every pod (each environment turns Degraded
   * once, an Event), and our collector's first cycle (30 s apart) works out every new database. With many
   * environments the cluster's own controllers take minutes to get there: at least 60 s, then until 30 s pass
   * without a write through {@code proxy} (at most 10 min).
   */
  static void settle(FaultProxy proxy) throws InterruptedException {
    long settleStart = System.nanoTime();
    Thread.sleep(60_000);
    long settleDeadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    int writes = proxy.writeCount();
    long quietSince = System.nanoTime();
    while (System.nanoTime() - quietSince < Duration.ofSeconds(30).toNanos() && System.nanoTime() < settleDeadline) {
      Thread.sleep(1_000);
      if (proxy.writeCount() != writes) {
        writes = proxy.writeCount();
        quietSince = System.nanoTime();
      }
    }
    System.out.printf("  settled after %d s; measuring idle for 60 s from %s%n", (System.nanoTime() - settleStart) / 1_000_000_000,
        java.time.Instant.now());
  }

  private static long usedHeap() {
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  private static String values(String ns, int replicas) {
    return "namespace: " + ns + "\nlangconnect:\n  replicaCount: " + replicas
        + "\n  image:\n    repository: registry.example.com/langconnect\npostgres:\n  auth:\n    password: bench\n";
  }

  private static boolean synced(Controller controller, String env) {
    return controller.board().get(env).map(s -> s.result() == EnvironmentStatus.Result.SYNCED).orElse(false);
  }

  private static int replicas(KubernetesClient client, String ns) {
    Deployment d = client.apps().deployments().inNamespace(ns).withName("langconnect-langconnect").get();
    return d == null || d.getSpec().getReplicas() == null ? -1 : d.getSpec().getReplicas();
  }

  static void waitFor(BooleanSupplier condition) throws InterruptedException {
    waitFor(condition, Duration.ofMinutes(20));
  }

  static void waitFor(BooleanSupplier condition, Duration bound) throws InterruptedException {
    long deadline = System.nanoTime() + bound.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("benchmark condition not reached in " + bound.toMinutes() + " minutes");
      }
      Thread.sleep(20);
    }
  }
}
