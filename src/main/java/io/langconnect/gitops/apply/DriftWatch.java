package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.render.Labels;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Hears, through the {@link WorkloadCache}'s watches, of every change to an object the controller applies, and
 * names the environment of each one someone else changed or deleted, so that its drift is corrected within a
 * second instead of at the next full re-check, and of each one whose status moved, so its health is read again.
 * A watch that breaks (cut, 410 Gone, API server restart) is listed and watched again by fabric8 itself. Only
 * events are used: what the sync reads, it reads itself. Secrets are not watched.
 */
public final class DriftWatch implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DriftWatch.class);
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private final WorkloadCache cache;
  private final ResourceEventHandler<HasMetadata> handler;

  /**
   * {@code drifted} hears the environment and the namespace of an object someone else changed; {@code statusChanged}
   * of one whose status moved (a rollout, a replica that stopped being available), so health is re-read at once.
   * Both are called on an informer thread and must not block. (The label names an environment; only its namespace
   * says it is this controller's environment.)
   */
  public DriftWatch(WorkloadCache cache, BiConsumer<String, String> drifted, BiConsumer<String, String> statusChanged) {
    this.cache = cache;
    this.handler = new ResourceEventHandler<>() {
      @Override
      public void onAdd(HasMetadata object) {
        // What the cache held when this started, and objects the controller creates: nothing to correct.
      }

      @Override
      public void onUpdate(HasMetadata before, HasMetadata after) {
        if (changedByOthers(before, after)) report(after, "changed", drifted);
        else if (statusMoved(before, after)) report(after, "status changed", statusChanged);
      }

      @Override
      public void onDelete(HasMetadata object, boolean finalStateUnknown) {
        report(object, "deleted", drifted);
      }
    };
  }

  /** Starts hearing changes (the cache lists and watches on its own). */
  public void start() {
    cache.listen(handler);
  }

  private static void report(HasMetadata object, String what, BiConsumer<String, String> to) {
    Optional.ofNullable(object.getMetadata().getLabels()).map(labels -> labels.get(Labels.ENVIRONMENT)).ifPresent(env -> {
      LOG.debug("{}/{} in {} {}: environment {}", object.getKind(), object.getMetadata().getName(),
          object.getMetadata().getNamespace(), what, env);
      to.accept(env, object.getMetadata().getNamespace());
    });
  }

  /** Whether what the API server reports about the object (its status) changed: health may have. */
  static boolean statusMoved(HasMetadata before, HasMetadata after) {
    return !Objects.equals(JSON.convertValue(before, JsonNode.class).get("status"),
        JSON.convertValue(after, JsonNode.class).get("status"));
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
    cache.unlisten(handler);
  }
}
