package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.values.NamespacePolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Inventories live in the controller's own cluster, one ConfigMap per environment in its state namespace, each
 * naming the cluster its objects were applied to, so that a restarted controller (or a new leader) prunes exactly
 * what its predecessor applied, where it applied it, and an environment whose file was removed can still be found
 * and pruned. An inventory is only trusted when it holds nothing the
 * controller could not have written: kinds it manages, in one namespace environments may use.
 */
public final class InventoryStore {

  static final String INVENTORY_LABEL = "langconnect-gitops.io/inventory";
  /** The cluster its objects are on, so that a shard lists only its own without reading every inventory. */
  static final String CLUSTER_LABEL = "langconnect-gitops.io/cluster";
  /**
   * What an environment left on a cluster it moved away from and that could not be pruned yet: kept beside its
   * inventory (not as one: it is no environment of its own) until it is.
   */
  static final String DEPARTED_LABEL = "langconnect-gitops.io/departed";
  private static final String PREFIX = "inventory-";
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  /** An inventory that cannot be trusted: nothing is pruned from it, and the next good sync rewrites it. */
  public static final class InvalidInventoryException extends Exception {
    InvalidInventoryException(String message) {
      super(message);
    }
  }

  /**
   * The record changed since this controller read it (another controller, or a replica that did not know it lost its
   * Lease, wrote it): this write is not made over it; the sync is tried again from a fresh read.
   */
  public static final class ConflictException extends RuntimeException {
    ConflictException(String message) {
      super(message);
    }
  }

  private record Row(String apiVersion, String kind, String namespace, String name, String hash, String revision) {}

  private final KubernetesClient client;
  private final NamespacePolicy namespaces;
  private final Retry retry;
  private final Optional<StateCache> cache;
  private volatile boolean stateNamespaceMade;
  /** Each record's resourceVersion as this store last read or wrote it ("" for none): the precondition of a write. */
  private final Map<String, String> seen = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * {@code namespaces} says where environments may live; its controller namespace is where inventories are kept.
   * Every call is retried as applies are: an inventory write lost to a cut connection would leave what a sync
   * applied unrecorded until the next one.
   */
  public InventoryStore(KubernetesClient client, NamespacePolicy namespaces, Retry retry) {
    this(client, namespaces, retry, Optional.empty());
  }

  /** Records are read from {@code cache} when it can answer (a sync then reads its inventory without a request). */
  public InventoryStore(KubernetesClient client, NamespacePolicy namespaces, Retry retry, Optional<StateCache> cache) {
    this.client = client;
    this.namespaces = namespaces;
    this.retry = retry;
    this.cache = cache;
  }

  public String namespace() {
    return namespaces.controllerNamespace();
  }

  public static String configMapName(String environment) {
    return PREFIX + environment;
  }

  public Optional<Inventory> read(String environment) throws InvalidInventoryException {
    ConfigMap cm = fetch(configMapName(environment));
    saw(configMapName(environment), cm);
    return cm == null ? Optional.empty() : Optional.of(decode(environment, cm));
  }

  /** Every environment that has an inventory, i.e. that this controller applied and has not pruned whole. */
  public List<String> environments() {
    return environments(cluster -> true);
  }

  /** Those whose objects are on a cluster {@code on} accepts (by the inventory's cluster label). */
  public List<String> environments(Predicate<String> on) {
    return records(cm -> "true".equals(cm.getMetadata().getLabels().get(INVENTORY_LABEL)),
        () -> client.configMaps().inNamespace(namespace()).withLabel(INVENTORY_LABEL, "true").list().getItems()).stream()
        .filter(cm -> on.test(cm.getMetadata().getLabels().getOrDefault(CLUSTER_LABEL, NamespacePolicy.IN_CLUSTER)))
        .map(cm -> cm.getMetadata().getLabels().get(Labels.ENVIRONMENT)).filter(env -> env != null).sorted().toList();
  }

  public void write(Inventory inventory) {
    write(inventory, configMapName(inventory.environment()), INVENTORY_LABEL);
  }

  /** Records what {@code left} holds on its cluster, to be pruned there later; replaces an older record of that cluster. */
  public void writeDeparted(Inventory left) {
    write(left, departedConfigMapName(left.environment(), left.cluster()), DEPARTED_LABEL);
  }

  /** The records of what the environment left on other clusters, not pruned yet. */
  public List<Inventory> departed(String environment) throws InvalidInventoryException {
    List<Inventory> left = new ArrayList<>();
    for (ConfigMap cm : records(cm -> "true".equals(cm.getMetadata().getLabels().get(DEPARTED_LABEL))
            && environment.equals(cm.getMetadata().getLabels().get(Labels.ENVIRONMENT)),
        () -> client.configMaps().inNamespace(namespace()).withLabel(DEPARTED_LABEL, "true")
            .withLabel(Labels.ENVIRONMENT, environment).list().getItems())) {
      saw(cm.getMetadata().getName(), cm);
      left.add(decode(environment, cm));
    }
    return left;
  }

  public void deleteDeparted(Inventory left) {
    deleteRecord(departedConfigMapName(left.environment(), left.cluster()));
  }

  public static String departedConfigMapName(String environment, String cluster) {
    return PREFIX + environment + ".departed." + cluster;
  }

  /** The records {@code which} accepts: from the cache when it can answer, else listed by {@code list}. */
  private List<ConfigMap> records(Predicate<ConfigMap> which, java.util.function.Supplier<List<ConfigMap>> list) {
    return cache.flatMap(c -> c.list(cm -> cm.getMetadata().getLabels() != null && which.test(cm)))
        .orElseGet(() -> retry.call(list::get));
  }

  private void write(Inventory inventory, String name, String kindLabel) {
    if (!stateNamespaceMade) {
      retry.run(() -> Namespaces.ensure(client, namespace(), Map.of()));
      stateNamespaceMade = true;
    }
    List<Row> rows = new ArrayList<>();
    inventory.objects().forEach((ref, entry) ->
        rows.add(new Row(ref.apiVersion(), ref.kind(), ref.namespace(), ref.name(), entry.hash(), entry.revision())));
    Map<String, String> data = new LinkedHashMap<>();
    data.put("environment", inventory.environment());
    data.put("namespace", inventory.namespace());
    data.put("revision", inventory.revision());
    data.put("production", Boolean.toString(inventory.production()));
    data.put("cluster", inventory.cluster());
    data.put("objects", JSON.asJson(rows));
    ConfigMap cm = new ConfigMapBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace())
        .addToLabels(kindLabel, "true")
        .addToLabels(Labels.ENVIRONMENT, inventory.environment())
        .addToLabels(CLUSTER_LABEL, inventory.cluster())
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGER)
        .endMetadata()
        .withData(data)
        .build();
    String expected = expectedVersion(name);
    if (!expected.isEmpty()) cm.getMetadata().setResourceVersion(expected);
    ConfigMap written;
    try {
      written = retry.call(() -> expected.isEmpty() ? client.resource(cm).create()
          : client.resource(cm).fieldManager(Labels.MANAGER).forceConflicts().serverSideApply());
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() == 404) stateNamespaceMade = false; // deleted since: made again by the next write
      if (e.getCode() != 409) throw e;
      // A write whose answer was lost and that was sent again finds itself: that is no conflict.
      ConfigMap now = fetchLive(name);
      if (now == null || !data.equals(now.getData())) throw conflict(name, e);
      written = now;
    }
    saw(name, written);
  }

  public void delete(String environment) {
    deleteRecord(configMapName(environment));
  }

  /** Deleted only as this store last saw it: a record another controller rewrote meanwhile stays. */
  private void deleteRecord(String name) {
    String expected = expectedVersion(name);
    try {
      retry.run(() -> {
        var resource = client.configMaps().inNamespace(namespace()).withName(name);
        if (expected.isEmpty()) resource.delete();
        else resource.lockResourceVersion(expected).delete();
      });
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() != 409) throw e;
      if (fetchLive(name) != null) throw conflict(name, e);
    }
    seen.remove(name);
    cache.ifPresent(c -> c.deleted(name, expected));
  }

  private ConflictException conflict(String name, io.fabric8.kubernetes.client.KubernetesClientException cause) {
    seen.remove(name); // the next sync reads it afresh
    return new ConflictException("inventory " + namespace() + "/" + name + " changed since this sync read it (another"
        + " controller wrote it: " + cause.getStatus().getMessage() + "); this sync's record was not written over it,"
        + " tried again from a fresh read");
  }

  /** As last known: from the cache when it can answer. */
  private ConfigMap fetch(String name) {
    Optional<Optional<ConfigMap>> known = cache.flatMap(c -> c.get(name));
    return known.isPresent() ? known.get().orElse(null) : fetchLive(name);
  }

  /** As the API server has it now: after a refused write, to tell a conflict from a write of ours sent twice. */
  private ConfigMap fetchLive(String name) {
    return retry.call(() -> client.configMaps().inNamespace(namespace()).withName(name).get());
  }

  /** The version a write or delete of {@code name} is made over ("" for none): as last seen, else as it is now. */
  private String expectedVersion(String name) {
    if (!seen.containsKey(name)) saw(name, fetch(name)); // never read here (a departed record replaced)
    return seen.getOrDefault(name, "");
  }

  private void saw(String name, ConfigMap cm) {
    if (cm == null) seen.put(name, "");
    else seen.put(name, cm.getMetadata().getResourceVersion());
    if (cm != null) cache.ifPresent(c -> c.saw(cm));
  }

  private Inventory decode(String environment, ConfigMap cm) throws InvalidInventoryException {
    String name = namespace() + "/" + cm.getMetadata().getName();
    Map<String, String> data = cm.getData() == null ? Map.of() : cm.getData();
    Row[] rows;
    try {
      rows = JSON.unmarshal(data.getOrDefault("objects", "[]"), Row[].class);
    } catch (RuntimeException e) {
      throw new InvalidInventoryException("inventory " + name + " cannot be parsed (" + e.getMessage() + ")");
    }
    if (!environment.equals(data.get("environment"))) {
      throw new InvalidInventoryException("inventory " + name + " names environment \"" + data.get("environment") + "\"");
    }
    TreeSet<String> inNamespaces = new TreeSet<>();
    Map<ObjectRef, Inventory.Entry> objects = new LinkedHashMap<>();
    for (Row row : rows == null ? new Row[0] : rows) {
      if (row == null || row.kind() == null || row.name() == null || row.namespace() == null
          || !StackRenderer.KINDS.contains(row.apiVersion() + "/" + row.kind())) {
        throw new InvalidInventoryException("inventory " + name + " names " + (row == null ? "an empty row" : row.apiVersion()
            + " " + row.kind() + "/" + row.name()) + ", which is not a kind the controller manages");
      }
      inNamespaces.add(row.namespace());
      objects.put(new ObjectRef(row.apiVersion(), row.kind(), row.namespace(), row.name()),
          new Inventory.Entry(row.hash() == null ? "" : row.hash(), row.revision() == null ? "" : row.revision()));
    }
    // Inventories written before the namespace was recorded hold one namespace: theirs.
    String namespace = data.getOrDefault("namespace", inNamespaces.isEmpty() ? "" : inNamespaces.first());
    inNamespaces.add(namespace);
    if (inNamespaces.size() > 1) {
      throw new InvalidInventoryException("inventory " + name + " names objects outside the environment's namespace "
          + namespace + ": in " + String.join(", ", inNamespaces));
    }
    if (!namespace.isEmpty() && !namespaces.allows(namespace)) {
      throw new InvalidInventoryException("inventory " + name + " names namespace " + namespace
          + ", where environments may not be (kubernetes.allowedNamespaces: " + namespaces.describe() + ")");
    }
    // Written before production was recorded: treated as production, so its removal waits for a confirmation.
    boolean production = !"false".equals(data.get("production"));
    // Written before clusters were recorded: the controller's own.
    String cluster = data.getOrDefault("cluster", NamespacePolicy.IN_CLUSTER);
    return new Inventory(environment, namespace, data.getOrDefault("revision", ""), objects, production, cluster);
  }
}
