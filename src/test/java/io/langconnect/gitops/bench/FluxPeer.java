package io.langconnect.gitops.bench;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.testenv.FaultProxy;
import io.langconnect.gitops.testenv.HttpGitServer;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.ValuesRepo;
import io.langconnect.gitops.values.ValuesFolder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The benchmark's peer: Flux's source-controller and kustomize-controller (built by scripts/flux-peer.sh), run as
 * processes against the local API server through the fault proxy, which counts their requests. The environments
 * are the ones our controller syncs, rendered by our own renderer into plain manifests (one folder per environment,
 * its Namespace included) in one git repository of the git daemon's, served over smart HTTP with a token by git's own
 * http-backend (Flux reads git only over HTTP(S) or SSH); one Kustomization per folder, {@code prune: true},
 * {@code wait: false}, interval 10 m.
 */
final class FluxPeer implements AutoCloseable {

  private static final KubernetesSerialization YAML = new KubernetesSerialization();
  /** Flux's own namespace, new for each run: a run that was stopped may leave its objects behind. */
  private final String NAMESPACE = "flux-system-" + java.util.UUID.randomUUID().toString().substring(0, 6);
  private static final String KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1";
  private static final String SOURCE_API = "source.toolkit.fluxcd.io/v1";

  private final LocalControlPlane plane;
  private final KubernetesClient admin;
  private final List<Process> processes = new ArrayList<>();
  private HttpGitServer git;
  private final List<Integer> kustomizations = new ArrayList<>();
  private final java.util.Set<String> readyOnce = new java.util.HashSet<>();

  private FluxPeer(LocalControlPlane plane) {
    this.plane = plane;
    this.admin = plane.admin();
  }

  /** Syncs {@code count} environments with Flux and measures it as SyncBenchmark measures our controller. */
  static SyncBenchmark.Figures run(LocalControlPlane plane, Path fluxDir, Path tmp, int count, String prefix,
                                   String commonValues, FaultProxy proxy) throws Exception {
    try (FluxPeer flux = new FluxPeer(plane)) {
      return flux.measure(fluxDir, tmp, count, prefix, commonValues, proxy);
    }
  }

  private SyncBenchmark.Figures measure(Path fluxDir, Path tmp, int count, String prefix, String commonValues,
                                        FaultProxy proxy) throws Exception {
    ValuesRepo repo = ValuesRepo.create(plane, tmp.resolve("flux-manifests"));
    Map<String, String> files = new LinkedHashMap<>();
    files.put("values.yaml", commonValues);
    for (int i = 0; i < count; i++) files.put("values-e" + i + ".yaml", "namespace: " + prefix + "-" + i + "\n");
    for (ValuesFolder.Environment environment : ValuesFolder.load(files, "")) {
      var values = environment.values().orElseThrow(() -> new IllegalStateException(environment.problems().toString()));
      plane.uniqueNamespaceNamed(values.namespace());
      List<HasMetadata> objects = new ArrayList<>();
      objects.add(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(values.namespace())
          .endMetadata().build());
      objects.addAll(StackRenderer.render(values, Optional.empty()));
      repo.write(environment.name() + "/stack.yaml", objects.stream().map(YAML::asYaml).collect(Collectors.joining()));
    }
    repo.commitAndPush(count + " environments, rendered");
    git = HttpGitServer.start(LocalControlPlane.vertx(), plane.gitDaemonRoot(), "bench-git-token");

    for (Path crd : Files.newDirectoryStream(fluxDir.resolve("crds"), "*.yaml")) {
      admin.load(Files.newInputStream(crd)).serverSideApply();
    }
    plane.uniqueNamespaceNamed(NAMESPACE);
    admin.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(NAMESPACE)
        .endMetadata().build()).serverSideApply();
    admin.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("bench-git")
        .withNamespace(NAMESPACE).endMetadata().addToStringData("username", "git")
        .addToStringData("password", "bench-git-token").build()).serverSideApply();
    Path kubeconfig = tmp.resolve("flux.kubeconfig");
    Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters: [{name: local, cluster: {server: "%s", certificate-authority: "%s"}}]
        users: [{name: admin, user: {token: "%s"}}]
        contexts: [{name: local, context: {cluster: local, user: admin}}]
        current-context: local
        """.formatted(proxy.url(), plane.caFile(), plane.adminToken()));
    int sourceHealth = freePort();
    int storage = freePort();
    start(fluxDir.resolve("source-controller"), kubeconfig, tmp, "--storage-path="
        + Files.createDirectories(tmp.resolve("flux-storage")),
        "--storage-addr=127.0.0.1:" + storage, "--storage-adv-addr=127.0.0.1:" + storage,
        "--metrics-addr=127.0.0.1:" + freePort(), "--health-addr=127.0.0.1:" + sourceHealth);
    int kustomizeHealth = freePort();
    start(fluxDir.resolve("kustomize-controller"), kubeconfig, tmp, "--metrics-addr=127.0.0.1:" + freePort(),
        "--health-addr=127.0.0.1:" + kustomizeHealth, "--concurrent=4", "--no-remote-bases=true");
    awaitReady(sourceHealth, processes.get(0), tmp.resolve("source-controller.log"));
    awaitReady(kustomizeHealth, processes.get(1), tmp.resolve("kustomize-controller.log"));

    Map<String, Integer> kindsBefore = proxy.requestsByKind();
    int requestsBefore = proxy.requestCount();
    int writesBefore = proxy.writeCount();
    long start = System.nanoTime();
    admin.resource(resource(SOURCE_API, "GitRepository", "bench", Map.of("interval", "10m",
        "url", git.url(Path.of(URI.create(repo.fileUrl())).getFileName().toString()),
        "secretRef", Map.of("name", "bench-git"), "ref", Map.of("branch", "main")))).create();
    for (int i = 0; i < count; i++) {
      admin.resource(resource(KUSTOMIZE_API, "Kustomization", "e" + i, Map.of("interval", "10m", "path", "./e" + i,
          "prune", true, "wait", false, "timeout", "5m",
          "sourceRef", Map.of("kind", "GitRepository", "name", "bench")))).create();
      kustomizations.add(i);
    }
    // Flux's first sync grows faster than linearly: 1,000 Kustomizations took more than 20 minutes here.
    SyncBenchmark.waitFor(() -> ready(count), Duration.ofMinutes(90));
    double seconds = (System.nanoTime() - start) / 1e9;
    int requests = proxy.requestCount() - requestsBefore;
    int writes = proxy.writeCount() - writesBefore;
    Map<String, Integer> kinds = SyncBenchmark.difference(proxy.requestsByKind(), kindsBefore);

    SyncBenchmark.settle(proxy);
    long rss = processes.stream().mapToLong(FluxPeer::rssBytes).sum();
    long ticksBefore = processes.stream().mapToLong(FluxPeer::cpuTicks).sum();
    long idleStart = System.nanoTime();
    Thread.sleep(60_000);
    double idle = (processes.stream().mapToLong(FluxPeer::cpuTicks).sum() - ticksBefore) * (1e9 / clockTicks())
        * 100.0 / (System.nanoTime() - idleStart);
    return new SyncBenchmark.Figures(count, seconds, requests, writes, kinds, rss >> 20, "RSS of both processes", idle,
        "at its interval (10 m here): 5 min on average");
  }

  private GenericKubernetesResource resource(String apiVersion, String kind, String name, Map<String, Object> spec) {
    GenericKubernetesResource resource = new GenericKubernetesResource();
    resource.setApiVersion(apiVersion);
    resource.setKind(kind);
    resource.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).withNamespace(NAMESPACE)
        .build());
    resource.setAdditionalProperty("spec", spec);
    return resource;
  }

  /**
   * Whether every Kustomization has been Ready once: at N = 1,000 the first ones reconcile again at their interval
   * (Ready turns Unknown for a moment) before the last ones are done, so "all Ready at the same time" may never be seen.
   */
  private boolean ready(int count) {
    admin.genericKubernetesResources(KUSTOMIZE_API, "Kustomization").inNamespace(NAMESPACE).list().getItems().stream()
        .filter(k -> {
          Map<String, Object> status = k.get("status");
          if (status == null || status.get("lastAppliedRevision") == null) return false;
          @SuppressWarnings("unchecked")
          List<Map<String, Object>> conditions = (List<Map<String, Object>>) status.getOrDefault("conditions", List.of());
          return conditions.stream().anyMatch(c -> "Ready".equals(c.get("type")) && "True".equals(c.get("status")));
        })
        .forEach(k -> readyOnce.add(k.getMetadata().getName()));
    return readyOnce.size() == count;
  }

  private void start(Path binary, Path kubeconfig, Path tmp, String... flags) throws IOException {
    List<String> command = new ArrayList<>(List.of(binary.toString(), "--enable-leader-election=false",
        "--watch-all-namespaces=true", "--log-level=error"));
    command.addAll(List.of(flags));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(tmp.resolve(binary.getFileName() + ".log").toFile());
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    builder.environment().put("RUNTIME_NAMESPACE", NAMESPACE);
    processes.add(builder.start());
  }

  private static void awaitReady(int healthPort, Process process, Path log) throws InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    SyncBenchmark.waitFor(() -> {
      if (!process.isAlive()) throw new IllegalStateException("a Flux controller stopped; its log: " + log);
      try {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + healthPort + "/readyz")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    });
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static long rssBytes(Process process) {
    try {
      return Files.readAllLines(Path.of("/proc/" + process.pid() + "/status")).stream()
          .filter(line -> line.startsWith("VmRSS:")).mapToLong(line -> Long.parseLong(line.replaceAll("\\D", "")) * 1024)
          .sum();
    } catch (IOException e) {
      return 0;
    }
  }

  /** User and system CPU time of the process, in clock ticks (/proc/PID/stat fields 14 and 15). */
  private static long cpuTicks(Process process) {
    try {
      String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    } catch (IOException e) {
      return 0;
    }
  }

  private static long clockTicks() throws IOException, InterruptedException {
    Process getconf = new ProcessBuilder("getconf", "CLK_TCK").start();
    String ticks = new String(getconf.getInputStream().readAllBytes()).trim();
    getconf.waitFor();
    return Long.parseLong(ticks);
  }

  /**
   * Stops Flux, then lets its objects go: the finalizers of its Kustomizations and GitRepository are taken off (no
   * controller is left to act on them), so that their namespace can be deleted with the environments'.
   */
  @Override
  public void close() {
    processes.forEach(Process::destroy);
    if (git != null) git.close();
    for (Process process : processes) {
      try {
        process.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    String noFinalizers = "{\"metadata\":{\"finalizers\":null}}";
    for (int i : kustomizations) {
      admin.genericKubernetesResources(KUSTOMIZE_API, "Kustomization").inNamespace(NAMESPACE).withName("e" + i)
          .patch(PatchContext.of(PatchType.JSON_MERGE), noFinalizers);
    }
    var source = admin.genericKubernetesResources(SOURCE_API, "GitRepository").inNamespace(NAMESPACE).withName("bench");
    if (source.get() != null) source.patch(PatchContext.of(PatchType.JSON_MERGE), noFinalizers);
  }
}
