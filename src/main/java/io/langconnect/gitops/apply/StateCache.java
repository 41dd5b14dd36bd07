package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.langconnect.gitops.render.Labels;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A watch-fed copy of the controller's records in its state namespace (inventories and controls), so that a sync
 * reads them without a request. What this process wrote, or saw through another watch, is kept beside the watch's
 * copy until the watch catches up: a read never returns a record older than one this process already knew, so a
 * control used once (a confirmation cleared by the sync that used it) is never read again as still set. Writes
 * stay guarded by resourceVersion preconditions, so a record another controller changed meanwhile is never written
 * over.
 */
public final class StateCache implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(StateCache.class);

  private final String namespace;
  private final SharedIndexInformer<ConfigMap> informer;
  /** Newer than the watch's copy when this process wrote or saw it first; null data marks a deletion. */
  private final Map<String, Known> known = new ConcurrentHashMap<>();
  private boolean started;

  private record Known(String resourceVersion, ConfigMap configMap) {}

  public StateCache(KubernetesClient client, String namespace) {
    this.namespace = namespace;
    this.informer = client.configMaps().inNamespace(namespace).withLabel(Labels.MANAGED_BY, Labels.MANAGER)
        .runnableInformer(0);
    informer.exceptionHandler((started, error) -> {
      LOG.warn("watching the state namespace {} failed ({}); trying again", namespace, error.getMessage());
      return true;
    });
  }

  public String namespace() {
    return namespace;
  }

  /** Starts listing and watching (once, whoever asks first); reads go to the API server until the first list is in. */
  public synchronized void start() {
    if (!started) informer.start();
    started = true;
  }

  /** Whether reads can be answered here (the first list is in). */
  public boolean synced() {
    return informer.hasSynced();
  }

  /**
   * The record {@code name} as last known here: empty when this cache cannot answer (not listed yet, or versions
   * that cannot be compared), else the record or its absence.
   */
  public Optional<Optional<ConfigMap>> get(String name) {
    if (!synced()) return Optional.empty();
    ConfigMap watched = informer.getStore().getByKey(namespace + "/" + name);
    Known mine = known.get(name);
    if (mine == null) return Optional.of(Optional.ofNullable(watched));
    if (watched == null) {
      if (mine.configMap() == null) known.remove(name, mine); // the watch saw the deletion too
      return Optional.of(Optional.ofNullable(mine.configMap()));
    }
    Optional<Integer> order = ResourceVersions.compare(watched.getMetadata().getResourceVersion(), mine.resourceVersion());
    if (order.isEmpty()) return Optional.empty();
    boolean deletedHere = mine.configMap() == null;
    // Deleted here: only a later version (made again since) is there; written or seen here: the watch caught up.
    if (deletedHere ? order.get() > 0 : order.get() >= 0) {
      known.remove(name, mine);
      return Optional.of(Optional.of(watched));
    }
    return Optional.of(Optional.ofNullable(mine.configMap()));
  }

  /** Every record {@code which} accepts, as last known here; empty when this cache cannot answer. */
  public Optional<List<ConfigMap>> list(Predicate<ConfigMap> which) {
    if (!synced()) return Optional.empty();
    java.util.Set<String> names = new java.util.TreeSet<>(known.keySet());
    informer.getStore().list().forEach(cm -> names.add(cm.getMetadata().getName()));
    List<ConfigMap> records = new java.util.ArrayList<>();
    for (String name : names) {
      Optional<Optional<ConfigMap>> record = get(name);
      if (record.isEmpty()) return Optional.empty();
      record.get().filter(which).ifPresent(records::add);
    }
    return Optional.of(records);
  }

  /** A record as this process wrote it or saw it through another watch: reads return it until the watch has it. */
  public void saw(ConfigMap configMap) {
    String version = configMap.getMetadata().getResourceVersion();
    known.merge(configMap.getMetadata().getName(), new Known(version, configMap),
        (before, now) -> ResourceVersions.compare(before.resourceVersion(), version).orElse(-1) > 0 ? before : now);
  }

  /** A record this process deleted, last seen at {@code resourceVersion}. */
  public void deleted(String name, String resourceVersion) {
    known.put(name, new Known(resourceVersion, null));
  }

  @Override
  public void close() {
    informer.close();
  }
}
