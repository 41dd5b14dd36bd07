package io.langconnect.gitops.backup;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.render.CloudnativePgModel;
import io.langconnect.gitops.render.Labels;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * On-demand base backups of a CloudNativePG Cluster to its object store: a {@code Backup} (method
 * {@code barmanObjectStore}), started only while no other backup of the Cluster is unfinished. CloudNativePG 1.29
 * names a backup in the object store by the second it starts and does not always hold a second one back (of the
 * backups not running it lets the one whose name sorts first go ahead, while the instance retries a backup that waited
 * for WAL archiving after a failover as soon as archiving works), so two started in the same second share a name and
 * barman fails one of them. Blocking.
 */
final class CloudnativePgBackups {

  private static final Set<String> ENDED = Set.of("completed", "failed");

  private final KubernetesClient client;

  CloudnativePgBackups(KubernetesClient client) {
    this.client = client;
  }

  /**
   * The Cluster the environment's ScheduledBackup backs up (rendered with {@code backup.objectStore} on CloudNativePG),
   * if there is one; none where the API server does not serve CloudNativePG's API.
   */
  static Optional<String> scheduledCluster(KubernetesClient client, String namespace, String environment) {
    try {
      return client.genericKubernetesResources(CloudnativePgModel.API_VERSION, "ScheduledBackup").inNamespace(namespace)
          .withLabel(Labels.MANAGED_BY, Labels.MANAGER).withLabel(Labels.ENVIRONMENT, environment).list().getItems()
          .stream().map(scheduled -> field(scheduled, "spec", "cluster", "name")).filter(name -> !name.isEmpty())
          .findFirst();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) return Optional.empty();
      throw e;
    }
  }

  /** Starts a base backup of {@code cluster} now; returns the Backup's name. */
  String backupNow(String namespace, String cluster, String environment) throws BackupService.BackupException {
    List<GenericKubernetesResource> backups = client.genericKubernetesResources(CloudnativePgModel.API_VERSION, "Backup")
        .inNamespace(namespace).list().getItems();
    Optional<String> unfinished = unfinished(backups, cluster);
    if (unfinished.isPresent()) {
      throw new BackupService.BackupException(unfinished.get() + " of Cluster " + cluster + " in " + namespace
          + " has not ended: a backup started beside it could take the same name in the object store and fail;"
          + " run backup again once it has completed or failed");
    }
    String name = cluster + "-manual-" + BackupService.STAMP.format(Instant.now());
    GenericKubernetesResource backup = new GenericKubernetesResourceBuilder().withApiVersion(CloudnativePgModel.API_VERSION)
        .withKind("Backup").withNewMetadata().withName(name).withNamespace(namespace)
        .addToLabels(Labels.ENVIRONMENT, environment).addToLabels(Labels.PART_OF, Labels.APP_NAME)
        .addToLabels(Labels.COMPONENT, Labels.BACKUP).endMetadata().build();
    backup.setAdditionalProperty("spec", Map.of("cluster", Map.of("name", cluster), "method", "barmanObjectStore"));
    client.resource(backup).create();
    return name;
  }

  /** The first backup of {@code cluster} that has neither completed nor failed, described, if any. */
  static Optional<String> unfinished(List<GenericKubernetesResource> backups, String cluster) {
    return backups.stream()
        .filter(backup -> cluster.equals(field(backup, "spec", "cluster", "name")))
        .filter(backup -> !ENDED.contains(field(backup, "status", "phase")))
        .map(backup -> {
          String phase = field(backup, "status", "phase");
          return "Backup " + backup.getMetadata().getName() + " (" + (phase.isEmpty() ? "not started yet" : phase) + ")";
        })
        .findFirst();
  }

  private static String field(GenericKubernetesResource resource, String... path) {
    return Objects.toString(resource.get((Object[]) path), "");
  }
}
