package io.langconnect.gitops.sync;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.File;
import java.time.Duration;
import java.util.Optional;

/** The cluster as kubectl finds it: {@code --kubeconfig}, then {@code KUBECONFIG}, {@code ~/.kube/config}, in-cluster. */
public final class KubernetesClients {

  private KubernetesClients() {}

  public static KubernetesClient create(Optional<String> kubeconfig, Duration requestTimeout) {
    Config base = kubeconfig.map(path -> Config.fromKubeconfig(new File(path))).orElseGet(() -> Config.autoConfigure(null));
    Config config = new ConfigBuilder(base)
        .withRequestTimeout((int) requestTimeout.toMillis())
        // Retries are ours (apply.Retry): one policy, visible in one place.
        .withRequestRetryBackoffLimit(0)
        .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }
}
