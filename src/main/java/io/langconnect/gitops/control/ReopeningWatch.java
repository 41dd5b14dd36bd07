package io.langconnect.gitops.control;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapList;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A watch of the ConfigMaps a selector names, for what is written from its start on, that opens itself again
 * whenever it closes (API server restart, expired resourceVersion) or cannot be opened, until stopped. The
 * state namespace's hand-offs and controls are read this way.
 */
final class ReopeningWatch {

  private static final Logger LOG = LoggerFactory.getLogger(ReopeningWatch.class);

  private final String what;
  private final FilterWatchListDeletable<ConfigMap, ConfigMapList, Resource<ConfigMap>> source;
  private final BiConsumer<Watcher.Action, ConfigMap> events;
  private final Consumer<Runnable> later;
  private volatile boolean watching;
  private volatile Watch current;

  /**
   * @param events hears each change, on a watch thread (must not block)
   * @param later runs the next attempt to open, a moment later, where it may block
   */
  ReopeningWatch(String what, FilterWatchListDeletable<ConfigMap, ConfigMapList, Resource<ConfigMap>> source,
                 BiConsumer<Watcher.Action, ConfigMap> events, Consumer<Runnable> later) {
    this.what = what;
    this.source = source;
    this.events = events;
    this.later = later;
  }

  /** Blocking: opens the watch (or schedules the next attempt when the API server does not answer). */
  void start() {
    watching = true;
    open();
  }

  void stop() {
    watching = false;
    Watch watch = current;
    if (watch != null) watch.close();
  }

  private void open() {
    if (!watching) return;
    try {
      // From now on: the list's resourceVersion, read through the same selector.
      String since = source.list().getMetadata().getResourceVersion();
      current = source.watch(new ListOptionsBuilder().withResourceVersion(since).build(), new Watcher<>() {
        @Override
        public void eventReceived(Action action, ConfigMap configMap) {
          events.accept(action, configMap);
        }

        @Override
        public void onClose(WatcherException cause) {
          LOG.info("the {} watch closed ({}); watching again", what, cause.getMessage());
          later.accept(ReopeningWatch.this::open);
        }
      });
      if (!watching) current.close(); // stopped while opening
    } catch (KubernetesClientException e) {
      LOG.warn("cannot watch {} ({}); trying again", what, e.getMessage());
      later.accept(this::open);
    }
  }
}
