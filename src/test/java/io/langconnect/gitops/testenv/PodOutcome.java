package io.langconnect.gitops.testenv;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.time.Instant;
import java.util.List;

/**
 * Until a test needs the real node: ends a Job's pods as the kubelet would report them (Succeeded or Failed,
 * each container terminated with its exit code), so the real Job and CronJob controllers do the rest.
 */
public final class PodOutcome {

  private PodOutcome() {}

  /**
   * Ends every running pod of {@code job}; true when there was one and each was ended. The scheduler writes the
   * same status (PodScheduled false: the node is tainted), so a conflicting write returns false for the caller's
   * next attempt to read the pod again.
   */
  public static boolean finish(KubernetesClient client, String namespace, String job, boolean succeeded) {
    List<Pod> pods = client.pods().inNamespace(namespace).withLabel("job-name", job).list().getItems().stream()
        .filter(p -> p.getStatus() == null || p.getStatus().getPhase() == null
            || !List.of("Succeeded", "Failed").contains(p.getStatus().getPhase()))
        .toList();
    String now = Instant.now().toString().replaceAll("\\.\\d+Z$", "Z");
    for (Pod pod : pods) {
      List<ContainerStatus> containers = pod.getSpec().getContainers().stream().map(c -> new ContainerStatusBuilder()
          .withName(c.getName()).withImage(c.getImage()).withImageID("sha256:" + "0".repeat(64)).withReady(false)
          .withStarted(false).withRestartCount(0).withNewState().withNewTerminated()
          .withExitCode(succeeded ? 0 : 1).withReason(succeeded ? "Completed" : "Error")
          .withStartedAt(now).withFinishedAt(now).endTerminated().endState().build()).toList();
      try {
        client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).editStatus(p -> {
          p.getStatus().setPhase(succeeded ? "Succeeded" : "Failed");
          p.getStatus().setStartTime(now);
          p.getStatus().setContainerStatuses(containers);
          return p;
        });
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) throw e;
        return false;
      }
    }
    return !pods.isEmpty();
  }
}
