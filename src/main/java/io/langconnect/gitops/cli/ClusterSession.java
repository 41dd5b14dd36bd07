package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.sync.EventRecorder;
import io.langconnect.gitops.sync.KubernetesClients;
import io.langconnect.gitops.sync.StatusBoard;
import io.langconnect.gitops.sync.SyncMetrics;
import io.langconnect.gitops.sync.SyncService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Optional;

/** The cluster-side parts a one-shot command needs, built from the config and closed together. */
final class ClusterSession implements AutoCloseable {

  final KubernetesClient client;
  final Applier applier;
  final InventoryStore inventories;
  final SyncService service;

  ClusterSession(ControllerConfig config) {
    this.client = KubernetesClients.create(Optional.ofNullable(config.kubernetes().kubeconfig()),
        config.kubernetes().requestTimeout());
    this.applier = new Applier(client, new Retry(config.sync().retries(), Duration.ofMillis(200), Duration.ofSeconds(10)));
    this.inventories = new InventoryStore(client, config.kubernetes().namespacePolicy());
    this.service = new SyncService(applier, inventories, new EventRecorder(client, "cli"),
        new SyncMetrics(new SimpleMeterRegistry()), new StatusBoard(), config.sync());
  }

  @Override
  public void close() {
    client.close();
  }
}
