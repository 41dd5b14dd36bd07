package io.langconnect.gitops.soak;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The controller's processes on the node, followed through the run: each container instance's whole log (a killed
 * one's is read back as the container's previous log once its successor runs) and its heap after a full GC, read with
 * the JDK's jcmd from the host as an operator would.
 */
final class ControllerProcesses implements AutoCloseable {

  private static final Duration HEAP_EVERY = Duration.ofSeconds(60);
  /** A heap's line of GC.heap_info (G1's one, or a young and an old generation's): "total 1234K, used 567K". */
  private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");

  /** A container instance: its log lines (deduplicated, in order) and heap samples after GC (KiB). */
  static final class Instance {
    final String pod;
    final String containerId;
    final Set<String> lines = new LinkedHashSet<>();
    final List<long[]> heap = new ArrayList<>(); // {seconds into the run, KiB}

    Instance(String pod, String containerId) {
      this.pod = pod;
      this.containerId = containerId;
    }
  }

  private final SoakStack stack;
  private final Instant started;
  private final Map<String, Instance> instances = new LinkedHashMap<>();
  private final Map<String, String> currentByPod = new LinkedHashMap<>();
  private final Thread follower;
  private volatile boolean closed;
  private Instant lastHeap = Instant.EPOCH;

  ControllerProcesses(SoakStack stack, Instant started) {
    this.stack = stack;
    this.started = started;
    this.follower = new Thread(this::follow, "soak-controller-processes");
    follower.setDaemon(true);
  }

  void start() {
    follower.start();
  }

  private void follow() {
    while (!closed) {
      try {
        look(Instant.now().isAfter(lastHeap.plus(HEAP_EVERY)));
      } catch (RuntimeException e) {
        // the API server is down for a moment: the next look catches up
      }
      try {
        Thread.sleep(5_000);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Reads each controller pod's current container: a new one means the previous died, so its log is read back. */
  synchronized void look(boolean sampleHeap) {
    if (sampleHeap) lastHeap = Instant.now();
    for (Pod pod : stack.controllerPods()) {
      String name = pod.getMetadata().getName();
      ContainerStatus status = pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null
          || pod.getStatus().getContainerStatuses().isEmpty() ? null : pod.getStatus().getContainerStatuses().get(0);
      if (status == null || status.getContainerID() == null || status.getState().getRunning() == null) continue;
      String id = status.getContainerID().replaceFirst("^[a-z]+://", "");
      var logs = stack.admin.pods().inNamespace(SoakStack.CONTROLLER_NS).withName(name);
      String previous = currentByPod.put(name, id);
      if (previous != null && !previous.equals(id)) {
        try {
          instances.get(previous).lines.addAll(logs.terminated().getLog().lines().toList());
        } catch (RuntimeException e) {
          System.out.println("[soak] the log of the killed container " + previous + " of " + name + " was not read back: "
              + e.getMessage());
        }
      }
      Instance instance = instances.computeIfAbsent(id, i -> new Instance(name, i));
      instance.lines.addAll(logs.getLog().lines().toList());
      if (sampleHeap) heapAfterGc(id).ifPresent(kib -> instance.heap.add(new long[] {seconds(), kib}));
    }
  }

  private long seconds() {
    return Duration.between(started, Instant.now()).toSeconds();
  }

  /** jcmd attaches from the host to the container's JVM (by its host pid): a full GC, then the heap it left. */
  private java.util.Optional<Long> heapAfterGc(String containerId) {
    try {
      String pid = SoakStack.run(List.of("scripts/test-env.sh", "fault", "container-pid", containerId)).strip();
      if (pid.isEmpty()) return java.util.Optional.empty();
      SoakStack.run(List.of("jcmd", pid, "GC.run"));
      String info = SoakStack.run(List.of("jcmd", pid, "GC.heap_info"));
      Matcher used = HEAP_USED.matcher(info);
      long kib = 0;
      boolean found = false;
      while (used.find()) {
        kib += Long.parseLong(used.group(1));
        found = true;
      }
      if (!found) System.out.println("[soak] heap of " + containerId + " not understood: " + info.strip());
      return found ? java.util.Optional.of(kib) : java.util.Optional.empty();
    } catch (Exception e) {
      System.out.println("[soak] heap of " + containerId + " not read: " + e.getMessage().lines().findFirst().orElse(""));
      return java.util.Optional.empty();
    }
  }

  /** Every instance's whole log, a file each, for whoever looks into a run. */
  synchronized void keepLogs(java.nio.file.Path dir) throws java.io.IOException {
    java.nio.file.Files.createDirectories(dir);
    for (Instance instance : instances.values()) {
      java.nio.file.Files.write(dir.resolve(instance.pod + "-" + instance.containerId.substring(0, 12) + ".log"),
          instance.lines);
    }
  }

  synchronized List<Instance> instances() {
    return List.copyOf(instances.values());
  }

  @Override
  public void close() {
    closed = true;
    follower.interrupt();
  }
}
