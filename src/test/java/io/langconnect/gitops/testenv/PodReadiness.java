package io.langconnect.gitops.testenv;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;
import java.util.List;

/**
 * Stands in for the kubelet the local control plane does not have: every pod of the watched namespaces
 * is reported Running and Ready, so ReplicaSets and Deployments become available as they would on a
 * cluster. Test infrastructure only: the API server, its validation and the controllers stay real.
 */
public final class PodReadiness implements AutoCloseable {

  private final SharedIndexInformer<Pod> informer;

  private PodReadiness(SharedIndexInformer<Pod> informer) {
    this.informer = informer;
  }

  /** Marks pods Ready in every namespace whose name starts with {@code prefix}. */
  public static PodReadiness markReady(KubernetesClient client, String prefix) {
    SharedIndexInformer<Pod> informer = client.pods().inAnyNamespace().inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Pod pod) {
        ready(client, pod, prefix);
      }

      @Override
      public void onUpdate(Pod old, Pod pod) {
        ready(client, pod, prefix);
      }

      @Override
      public void onDelete(Pod pod, boolean unknown) {
      }
    });
    return new PodReadiness(informer);
  }

  private static void ready(KubernetesClient client, Pod pod, String prefix) {
    if (!pod.getMetadata().getNamespace().startsWith(prefix) || pod.getMetadata().getDeletionTimestamp() != null) return;
    if (running(pod)) return;
    String now = Instant.now().toString().replaceAll("\\.\\d+Z$", "Z");
    List<PodCondition> conditions = List.of("PodScheduled", "Initialized", "ContainersReady", "Ready").stream()
        .map(type -> new PodConditionBuilder().withType(type).withStatus("True").withLastTransitionTime(now).build())
        .toList();
    List<ContainerStatus> containers = pod.getSpec().getContainers().stream().map(c -> new ContainerStatusBuilder()
        .withName(c.getName()).withImage(c.getImage()).withImageID("sha256:" + "0".repeat(64)).withReady(true)
        .withStarted(true).withRestartCount(0).withNewState().withNewRunning().withStartedAt(now).endRunning().endState()
        .build()).toList();
    try {
      client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).editStatus(p -> {
        p.getStatus().setPhase("Running");
        p.getStatus().setConditions(conditions);
        p.getStatus().setContainerStatuses(containers);
        p.getStatus().setStartTime(now);
        return p;
      });
    } catch (KubernetesClientException e) {
      // The pod changed or went away meanwhile; the next event for it tries again.
    }
  }

  /**
   * Ready, and not marked unschedulable: the scheduler finds no node for these pods (the test node is tainted) and
   * may write PodScheduled False after this class wrote its conditions, which reads as a stuck pod. Its write is
   * undone here; the scheduler ignores status-only updates, so it does not write it again at once.
   */
  private static boolean running(Pod pod) {
    List<PodCondition> conditions = pod.getStatus() == null || pod.getStatus().getConditions() == null ? List.of()
        : pod.getStatus().getConditions();
    return conditions.stream().anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"))
        && conditions.stream().noneMatch(c -> c.getType().equals("PodScheduled") && c.getStatus().equals("False"));
  }

  @Override
  public void close() {
    informer.close();
  }
}
