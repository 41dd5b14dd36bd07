package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.langconnect.gitops.render.Labels;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The two workload kinds the controller meets, read alike: the database's StatefulSet (and the Deployment an earlier
 * release rendered for it) and LangConnect's Deployment. Pure.
 */
public final class Workloads {

  private Workloads() {}

  public static boolean isWorkload(HasMetadata object) {
    return object instanceof Deployment || object instanceof StatefulSet;
  }

  public static boolean isWorkloadKind(String kind) {
    return kind.equals("Deployment") || kind.equals("StatefulSet");
  }

  /** A PostgreSQL workload of ours: by kind and component label. */
  public static boolean isDatabase(HasMetadata object) {
    return isWorkload(object) && object.getMetadata().getLabels() != null
        && Labels.POSTGRES.equals(object.getMetadata().getLabels().get(Labels.COMPONENT));
  }

  /** The live workload {@code ref} names, typed by its kind, or null. One request; callers retry it. */
  public static HasMetadata get(io.fabric8.kubernetes.client.KubernetesClient client, ObjectRef ref) {
    return ref.kind().equals("StatefulSet")
        ? client.apps().statefulSets().inNamespace(ref.namespace()).withName(ref.name()).get()
        : client.apps().deployments().inNamespace(ref.namespace()).withName(ref.name()).get();
  }

  public static PodSpec podSpec(HasMetadata workload) {
    if (workload instanceof StatefulSet set) return set.getSpec().getTemplate().getSpec();
    return ((Deployment) workload).getSpec().getTemplate().getSpec();
  }

  /** The pod selector's matchLabels, empty when there are none. */
  public static Map<String, String> selector(HasMetadata workload) {
    LabelSelector selector = workload instanceof StatefulSet set ? set.getSpec().getSelector()
        : workload instanceof Deployment deployment ? deployment.getSpec().getSelector() : null;
    return selector == null || selector.getMatchLabels() == null ? Map.of() : selector.getMatchLabels();
  }

  /** The names of the PersistentVolumeClaims its pods mount. */
  public static List<String> claims(HasMetadata workload) {
    return podSpec(workload).getVolumes().stream().filter(v -> v.getPersistentVolumeClaim() != null)
        .map(v -> v.getPersistentVolumeClaim().getClaimName()).toList();
  }

  /** The tag of the first container's image, if it has one. */
  public static Optional<String> imageTag(HasMetadata workload) {
    return podSpec(workload).getContainers().stream().findFirst()
        .map(c -> c.getImage()).filter(image -> image.lastIndexOf(':') > image.lastIndexOf('/'))
        .map(image -> image.substring(image.lastIndexOf(':') + 1));
  }

  /** Pods of the workload that are ready now, as its status counts them. */
  public static int readyReplicas(HasMetadata workload) {
    Integer ready = workload instanceof StatefulSet set ? (set.getStatus() == null ? null : set.getStatus().getReadyReplicas())
        : ((Deployment) workload).getStatus() == null ? null : ((Deployment) workload).getStatus().getReadyReplicas();
    return ready == null ? 0 : ready;
  }

  /** Pods of the workload that are available now, as its status counts them. */
  public static int availableReplicas(HasMetadata workload) {
    Integer available = workload instanceof StatefulSet set
        ? (set.getStatus() == null ? null : set.getStatus().getAvailableReplicas())
        : ((Deployment) workload).getStatus() == null ? null : ((Deployment) workload).getStatus().getAvailableReplicas();
    return available == null ? 0 : available;
  }

  public static int replicas(HasMetadata workload) {
    Integer replicas = workload instanceof StatefulSet set ? set.getSpec().getReplicas()
        : ((Deployment) workload).getSpec().getReplicas();
    return replicas == null ? 0 : replicas;
  }
}
