package io.langconnect.gitops.control;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.render.Labels;
import java.util.Map;
import java.util.Optional;

/**
 * Where the leader's HTTP API is, so that a standby (reached through the Service like any replica) answers the
 * status API and its write endpoints from the leader instead of from its own empty board. The leader writes its
 * address to a ConfigMap in the state namespace when it takes the Lease; standbys read it. Blocking.
 */
public final class LeaderDirectory {

  private static final String KEY = "apiUrl";
  private static final String MANAGER = "langconnect-gitops-leader";

  private final KubernetesClient client;
  private final String namespace;
  private final String name;

  public LeaderDirectory(KubernetesClient client, String namespace, String leaseName) {
    this.client = client;
    this.namespace = namespace;
    this.name = leaseName + "-leader";
  }

  public void announce(String apiUrl) {
    ConfigMap cm = new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace(namespace)
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGER).endMetadata().withData(Map.of(KEY, apiUrl)).build();
    client.resource(cm).fieldManager(MANAGER).forceConflicts().serverSideApply();
  }

  public Optional<String> apiUrl() {
    ConfigMap cm = client.configMaps().inNamespace(namespace).withName(name).get();
    return Optional.ofNullable(cm).map(ConfigMap::getData).map(data -> data.get(KEY));
  }
}
