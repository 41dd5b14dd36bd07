package io.langconnect.gitops.sync;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.git.ValuesRepository;
import io.langconnect.gitops.observe.ServerVersions;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.StatusBoard;
import io.langconnect.gitops.status.SyncMetrics;
import io.langconnect.gitops.status.SyncRecord;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.values.ValuesFolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jgit.lib.ObjectId;

/** One sync pass as the controller runs it (fetch, load, sync each environment, prune removed ones), for tests. */
final class SyncHarness implements AutoCloseable {

  final ControllerConfig config;
  final SyncService service;
  final StatusBoard board = new StatusBoard();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ValuesRepository repository;

  SyncHarness(LocalControlPlane plane, KubernetesClient client, String repoUrl, Path workDir, String stateNamespace,
              Duration databaseReadyTimeout) throws Exception {
    this(plane, client, repoUrl, workDir, stateNamespace, databaseReadyTimeout, Duration.ofMinutes(30));
  }

  SyncHarness(LocalControlPlane plane, KubernetesClient client, String repoUrl, Path workDir, String stateNamespace,
              Duration databaseReadyTimeout, Duration backupTimeout) throws Exception {
    config = ControllerConfig.defaults()
        .withGit(new ControllerConfig.Git(repoUrl, "main", ".", Duration.ofSeconds(1), Duration.ofSeconds(10),
            workDir.toString(), null))
        .withKubernetes(new ControllerConfig.Kubernetes(stateNamespace, null, false, null, null));
    repository = new ValuesRepository(config.git());
    service = new SyncService(SyncService.Cluster.of(client, new Retry(5, Duration.ofMillis(50), Duration.ofMillis(500)),
            config.namespacePolicy(), Optional.empty(), "test"), SyncRecord.of(board, new SyncMetrics(registry)),
        new ControllerConfig.Sync(Duration.ofMinutes(5), databaseReadyTimeout, 2, 5, Duration.ofSeconds(10), backupTimeout),
        new ServerVersions(), repository);
  }

  Map<String, EnvironmentStatus> syncAll() throws Exception {
    return syncAt(repository.fetch());
  }

  /** What the drift check does between fetches: the commit fetched last, synced again without fetching. */
  Map<String, EnvironmentStatus> syncFetched() throws Exception {
    return syncAt(repository.fetchedHead().orElseThrow());
  }

  private Map<String, EnvironmentStatus> syncAt(ObjectId head) throws Exception {
    List<ValuesFolder.Environment> environments = ValuesFolder.load(repository.valuesFiles(head).orElseThrow(), "");
    Map<String, EnvironmentStatus> results = new LinkedHashMap<>();
    for (ValuesFolder.Environment environment : environments) {
      results.put(environment.name(), service.sync(environment, head.name(), false));
    }
    List<String> present = environments.stream().map(ValuesFolder.Environment::name).toList();
    for (String removed : service.removedEnvironments(present)) {
      results.put(removed, service.pruneRemoved(removed, head.name(), false, present.isEmpty()));
    }
    return results;
  }

  @Override
  public void close() {
    repository.close();
  }
}
