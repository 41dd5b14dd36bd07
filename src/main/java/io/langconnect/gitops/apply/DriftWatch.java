package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.render.Labels;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
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
  private static final JsonNodeFactory JSON_NODES = JsonNodeFactory.instance;

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
        switch (Change.of(before, after)) {
          case DRIFT -> report(after, "changed", drifted);
          case STATUS -> report(after, "status changed", statusChanged);
          case NONE -> { }
        }
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

  /** What an update of a managed object is to this controller. */
  public enum Change {
    /**
     * What we apply (spec, data, labels, our annotations) changed, and not by our own apply. Status, the server's
     * bookkeeping and the annotations Kubernetes' own controllers keep are not drift.
     */
    DRIFT,
    /** Only what the API server reports about the object (its status) moved: its health may have. */
    STATUS,
    NONE;

    public static Change of(HasMetadata before, HasMetadata after) {
      String version = after.getMetadata().getResourceVersion();
      // The same object again (a watch re-listed after a break): nothing changed, and nothing to compare.
      if (version != null && version.equals(before.getMetadata().getResourceVersion())) return NONE;
      Optional<Parts> was = Parts.of(before);
      Optional<Parts> is = Parts.of(after);
      if (was.isEmpty() || is.isEmpty()) return ofJson(before, after);
      boolean appliedChanged = !Objects.equals(was.get().spec(), is.get().spec())
          || !Objects.equals(before.getMetadata().getLabels(), after.getMetadata().getLabels())
          || !ourAnnotations(before).equals(ourAnnotations(after));
      if (appliedChanged && !ourWrite(before, after)) return DRIFT;
      return Objects.equals(was.get().status(), is.get().status()) ? NONE : STATUS;
    }

    /** The same, for any kind, through JSON (slower: a managed kind's model is compared directly). */
    public static Change ofJson(HasMetadata before, HasMetadata after) {
      JsonNode was = JSON.convertValue(before, JsonNode.class);
      JsonNode is = JSON.convertValue(after, JsonNode.class);
      if (!applied(was).equals(applied(is)) && !ourWrite(before, after)) return DRIFT;
      return Objects.equals(was.get("status"), is.get("status")) ? NONE : STATUS;
    }
  }

  /**
   * The spec and status of the kinds the cache watches, compared with the model's own equals: an update event (a
   * thousand environments' Deployments report status all the time) then costs no JSON conversion.
   */
  private record Parts(Object spec, Object status) {
    static Optional<Parts> of(HasMetadata object) {
      if (object instanceof Deployment d) return Optional.of(new Parts(d.getSpec(), d.getStatus()));
      if (object instanceof StatefulSet d) return Optional.of(new Parts(d.getSpec(), d.getStatus()));
      if (object instanceof Service s) return Optional.of(new Parts(s.getSpec(), s.getStatus()));
      if (object instanceof PersistentVolumeClaim c) return Optional.of(new Parts(c.getSpec(), c.getStatus()));
      if (object instanceof CronJob j) return Optional.of(new Parts(j.getSpec(), j.getStatus()));
      if (object instanceof HorizontalPodAutoscaler h) return Optional.of(new Parts(h.getSpec(), h.getStatus()));
      return Optional.empty();
    }
  }

  private static Map<String, String> ourAnnotations(HasMetadata object) {
    Map<String, String> annotations = object.getMetadata().getAnnotations();
    if (annotations == null) return Map.of();
    Map<String, String> ours = new HashMap<>();
    annotations.forEach((key, value) -> {
      if (isOurs(key)) ours.put(key, value);
    });
    return ours;
  }

  /** Annotations Kubernetes' own controllers keep ({@code *kubernetes.io/*}) are bookkeeping, not what we apply. */
  private static boolean isOurs(String annotation) {
    return !annotation.contains("kubernetes.io/");
  }

  /** The parts of an object (as JSON) that an apply sets: all but status and the server's metadata. */
  private static JsonNode applied(JsonNode object) {
    ObjectNode node = JSON_NODES.objectNode();
    object.properties().forEach(e -> {
      if (!e.getKey().equals("status") && !e.getKey().equals("metadata")) node.set(e.getKey(), e.getValue());
    });
    JsonNode metadata = object.get("metadata");
    ObjectNode kept = node.putObject("metadata");
    if (metadata.has("labels")) kept.set("labels", metadata.get("labels"));
    if (metadata.get("annotations") instanceof ObjectNode annotations) {
      ObjectNode ours = kept.putObject("annotations");
      annotations.properties().forEach(e -> {
        if (isOurs(e.getKey())) ours.set(e.getKey(), e.getValue());
      });
    }
    return node;
  }

  /**
   * Whether our apply made the change: the time our field manager last wrote moved, or (two applies within one
   * second share that time) the revision annotation our applies set did.
   */
  private static boolean ourWrite(HasMetadata before, HasMetadata after) {
    return !ourLastWrite(before).equals(ourLastWrite(after)) || !Objects.equals(revision(before), revision(after));
  }

  private static String revision(HasMetadata object) {
    Map<String, String> annotations = object.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(Labels.REVISION_ANNOTATION);
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
