package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/** Whether a cluster serves CloudNativePG's API: the controller renders its Clusters, the user installs the operator. */
public final class CloudnativePg {

  public static final String API_VERSION = "postgresql.cnpg.io/v1";

  private CloudnativePg() {}

  /** One discovery request: whether {@code postgresql.cnpg.io/v1} serves Clusters. */
  public static boolean served(KubernetesClient client) {
    try {
      APIResourceList resources = client.getApiResources(API_VERSION);
      return resources != null && resources.getResources().stream().anyMatch(r -> "Cluster".equals(r.getKind()));
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) return false;
      throw e;
    }
  }
}
