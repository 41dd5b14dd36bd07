package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.render.Labels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Inventories live in the cluster, one ConfigMap per environment in the controller's state namespace,
 * so that a restarted controller (or a new leader) prunes exactly what its predecessor applied, and an
 * environment whose file was removed can still be found and pruned.
 */
public final class InventoryStore {

  static final String INVENTORY_LABEL = "langconnect-gitops.io/inventory";
  private static final String PREFIX = "inventory-";
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private record Row(String apiVersion, String kind, String namespace, String name, String hash, String revision) {}

  private final KubernetesClient client;
  private final String namespace;

  public InventoryStore(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  public String namespace() {
    return namespace;
  }

  public Optional<Inventory> read(String environment) {
    return Optional.ofNullable(client.configMaps().inNamespace(namespace).withName(PREFIX + environment).get())
        .map(InventoryStore::decode);
  }

  /** Every environment that has an inventory, i.e. that this controller applied and has not pruned whole. */
  public List<String> environments() {
    return client.configMaps().inNamespace(namespace).withLabel(INVENTORY_LABEL, "true").list().getItems().stream()
        .map(cm -> cm.getMetadata().getLabels().get(Labels.ENVIRONMENT)).sorted().toList();
  }

  public void write(Inventory inventory) {
    ensureNamespace();
    List<Row> rows = new ArrayList<>();
    inventory.objects().forEach((ref, entry) ->
        rows.add(new Row(ref.apiVersion(), ref.kind(), ref.namespace(), ref.name(), entry.hash(), entry.revision())));
    Map<String, String> data = new LinkedHashMap<>();
    data.put("environment", inventory.environment());
    data.put("revision", inventory.revision());
    data.put("objects", JSON.asJson(rows));
    ConfigMap cm = new ConfigMapBuilder()
        .withNewMetadata().withName(PREFIX + inventory.environment()).withNamespace(namespace)
        .addToLabels(INVENTORY_LABEL, "true")
        .addToLabels(Labels.ENVIRONMENT, inventory.environment())
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGER)
        .endMetadata()
        .withData(data)
        .build();
    client.resource(cm).fieldManager(Labels.MANAGER).forceConflicts().serverSideApply();
  }

  public void delete(String environment) {
    client.configMaps().inNamespace(namespace).withName(PREFIX + environment).delete();
  }

  private void ensureNamespace() {
    Namespaces.ensure(client, namespace, Map.of());
  }

  private static Inventory decode(ConfigMap cm) {
    Map<String, String> data = cm.getData();
    Row[] rows = JSON.unmarshal(data.getOrDefault("objects", "[]"), Row[].class);
    Map<ObjectRef, Inventory.Entry> objects = new LinkedHashMap<>();
    for (Row row : rows) {
      objects.put(new ObjectRef(row.apiVersion(), row.kind(), row.namespace(), row.name()),
          new Inventory.Entry(row.hash(), row.revision()));
    }
    return new Inventory(data.get("environment"), data.getOrDefault("revision", ""), objects);
  }
}
