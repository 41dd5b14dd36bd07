package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.render.Labels;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Watches the objects the controller manages (selected by its managed-by label) and names the environment of
 * each one someone else changed or deleted, so that its drift is corrected within a second instead of at the next
 * full re-check. The informers list once, then only watch; a watch that breaks (cut, 410 Gone, API server restart)
 * is listed and watched again by fabric8 itself. Only events are used: what the sync reads, it reads itself.
 * Secrets are not watched: that would need the right to list every Secret of the cluster.
 */
public final class DriftWatch implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DriftWatch.class);
  private static final KubernetesSerialization JSON = new KubernetesSerialization();
  /** The watched kinds: every kind a render holds but Secrets. */
  private static final List<Class<? extends HasMetadata>> KINDS = List.of(
      io.fabric8.kubernetes.api.model.Service.class,
      io.fabric8.kubernetes.api.model.PersistentVolumeClaim.class,
      io.fabric8.kubernetes.api.model.apps.Deployment.class,
      io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler.class,
      io.fabric8.kubernetes.api.model.batch.v1.CronJob.class);

  private final KubernetesClient client;
  private final BiConsumer<String, String> drifted;
  private final List<SharedIndexInformer<? extends HasMetadata>> informers = new ArrayList<>();

  /**
   * {@code drifted} hears the environment and the namespace of the changed object, on an informer thread; it must
   * not block. (The label names an environment; only its namespace says it is this controller's environment.)
   */
  public DriftWatch(KubernetesClient client, BiConsumer<String, String> drifted) {
    this.client = client;
    this.drifted = drifted;
  }

  /** Starts listing and watching; the first lists arrive in the background. */
  public void start() {
    for (Class<? extends HasMetadata> kind : KINDS) informers.add(inform(kind));
  }

  private <T extends HasMetadata> SharedIndexInformer<T> inform(Class<T> kind) {
    SharedIndexInformer<T> informer = client.resources(kind).inAnyNamespace()
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER).runnableInformer(0);
    informer.addEventHandler(new ResourceEventHandler<T>() {
      @Override
      public void onAdd(T object) {
        // The first list, and objects the controller creates: nothing to correct.
      }

      @Override
      public void onUpdate(T before, T after) {
        if (changedByOthers(before, after)) report(after, "changed");
      }

      @Override
      public void onDelete(T object, boolean finalStateUnknown) {
        report(object, "deleted");
      }
    });
    // A list or watch that fails (the API server restarting, a proxy in between) is tried again, never given up:
    // fabric8 would otherwise stop an informer whose first list failed.
    informer.exceptionHandler((started, error) -> {
      LOG.warn("watching {} failed ({}); trying again", kind.getSimpleName(), error.getMessage());
      return true;
    });
    informer.start();
    return informer;
  }

  private void report(HasMetadata object, String what) {
    Optional.ofNullable(object.getMetadata().getLabels()).map(labels -> labels.get(Labels.ENVIRONMENT)).ifPresent(env -> {
      LOG.debug("{}/{} in {} {} by someone else: syncing {}", object.getKind(), object.getMetadata().getName(),
          object.getMetadata().getNamespace(), what, env);
      drifted.accept(env, object.getMetadata().getNamespace());
    });
  }

  /**
   * Whether the change is drift to look at: what we apply (spec, data, labels, our annotations) changed, and not by
   * our own apply. Status, the server's bookkeeping and the annotations Kubernetes' own controllers keep are not.
   */
  static boolean changedByOthers(HasMetadata before, HasMetadata after) {
    if (Objects.equals(applied(before), applied(after))) return false;
    return Objects.equals(ourLastWrite(before), ourLastWrite(after));
  }

  private static JsonNode applied(HasMetadata object) {
    ObjectNode node = (ObjectNode) JSON.convertValue(object, JsonNode.class).deepCopy();
    node.remove("status");
    ObjectNode metadata = (ObjectNode) node.get("metadata");
    ObjectNode kept = metadata.objectNode();
    if (metadata.has("labels")) kept.set("labels", metadata.get("labels"));
    if (metadata.get("annotations") instanceof ObjectNode annotations) {
      ObjectNode ours = metadata.objectNode();
      annotations.properties().forEach(e -> {
        if (!e.getKey().contains("kubernetes.io/")) ours.set(e.getKey(), e.getValue());
      });
      kept.set("annotations", ours);
    }
    node.set("metadata", kept);
    return node;
  }

  /** When our field manager last applied the object: it moves only when our apply changed something. */
  private static String ourLastWrite(HasMetadata object) {
    List<ManagedFieldsEntry> entries = object.getMetadata().getManagedFields();
    if (entries == null) return "";
    return entries.stream().filter(e -> Labels.MANAGER.equals(e.getManager()) && e.getSubresource() == null)
        .map(e -> e.getOperation() + "@" + e.getTime()).findFirst().orElse("");
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
    informers.clear();
  }
}
