package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.render.Labels;
import java.util.Map;

/** Creates a namespace when it is missing. Parallel syncs may race to create it: the loser's 409 is fine. */
public final class Namespaces {

  private Namespaces() {}

  /** True when this call created it. */
  public static boolean ensure(KubernetesClient client, String name, Map<String, String> labels) {
    if (client.namespaces().withName(name).get() != null) return false;
    try {
      client.resource(new NamespaceBuilder().withNewMetadata().withName(name).addToLabels(labels)
          .addToLabels(Labels.MANAGED_BY, Labels.MANAGER).endMetadata().build()).create();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) return false;
      throw e;
    }
  }
}
