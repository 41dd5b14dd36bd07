package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.cluster.Clusters;
import io.langconnect.gitops.cluster.KubernetesClients;
import io.langconnect.gitops.cluster.RemoteClusters;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.control.ControlStore;
import io.langconnect.gitops.observe.ServerVersions;
import io.langconnect.gitops.status.SyncRecord;
import io.langconnect.gitops.sync.SyncService;
import io.langconnect.gitops.values.NamespacePolicy;
import java.util.Optional;

/** The cluster-side parts a one-shot command needs, built from the config and closed together. */
final class ClusterSession implements AutoCloseable {

  final KubernetesClient client;
  final Clusters clusters;
  final InventoryStore inventories;
  final ControlStore controls;
  final SyncService service;

  ClusterSession(ControllerConfig config) {
    this.client = KubernetesClients.create(Optional.ofNullable(config.kubernetes().kubeconfig()),
        config.kubernetes().requestTimeout());
    Retry retry = Retry.apiCalls(config.sync().retries());
    // The config's other clusters are reached as the controller reaches them: their kubeconfig file or Secret.
    this.clusters = new Clusters(Clusters.Target.of(NamespacePolicy.IN_CLUSTER, client, retry, Optional.empty(), "cli"),
        config.clusters(), name -> Clusters.Target.of(name, RemoteClusters.connect(name, config, client), retry,
            Optional.empty(), "cli"),
        config.shard()::includes);
    SyncService.Cluster cluster = SyncService.Cluster.of(client, retry, config.namespacePolicy(), clusters);
    this.inventories = cluster.inventories();
    this.controls = cluster.controls();
    // A one-shot command keeps no history and has no collector: the running major version is read from the
    // deployed image.
    this.service = new SyncService(cluster, SyncRecord.NONE, config.sync(), new ServerVersions());
  }

  /** A typo in --env must not write a control for an environment that does not exist. */
  void requireKnown(String environment) {
    java.util.List<String> known = inventories.environments();
    if (!known.contains(environment)) {
      throw new Main.UserError("--env " + environment + ": no such environment in the cluster (no inventory in "
          + inventories.namespace() + "); expected one of: " + (known.isEmpty() ? "(none)" : String.join(", ", known)));
    }
  }

  @Override
  public void close() {
    clusters.close();
    client.close();
  }
}
