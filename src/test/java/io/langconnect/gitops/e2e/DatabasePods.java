package io.langconnect.gitops.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.langconnect.gitops.render.Labels;
import java.util.HashSet;
import java.util.Set;

/**
 * Watches a namespace's database pods from the API server and remembers the most that existed at once (a pod exists
 * from its creation until it is deleted from the API, terminating or not): the one-postmaster-per-volume rule, seen
 * as a user with {@code kubectl get pods -w} would see it.
 */
final class DatabasePods implements AutoCloseable {

  private final Set<String> existing = new HashSet<>();
  private final Set<String> seen = new HashSet<>();
  private final Watch watch;
  private int initial = -1;
  private int most;

  private DatabasePods(KubernetesClient client, String namespace) {
    watch = client.pods().inNamespace(namespace).withLabel(Labels.COMPONENT, Labels.POSTGRES).watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, Pod pod) {
        record(action, pod.getMetadata().getUid()); // a StatefulSet's new pod has the old one's name
      }

      @Override
      public void onClose(WatcherException cause) {
      }
    });
  }

  static DatabasePods watch(KubernetesClient client, String namespace) throws InterruptedException {
    DatabasePods pods = new DatabasePods(client, namespace);
    Thread.sleep(500); // the watch's first events name the pods that exist already
    synchronized (pods) {
      pods.initial = pods.seen.size();
    }
    return pods;
  }

  private synchronized void record(Watcher.Action action, String uid) {
    if (action == Watcher.Action.DELETED) {
      existing.remove(uid);
    } else if (action == Watcher.Action.ADDED || action == Watcher.Action.MODIFIED) {
      existing.add(uid);
      seen.add(uid);
    }
    most = Math.max(most, existing.size());
  }

  synchronized int mostAtOnce() {
    return most;
  }

  /** Pods created since the watch began. */
  synchronized int created() {
    return Math.max(0, seen.size() - Math.max(0, initial));
  }

  @Override
  public void close() {
    watch.close();
  }
}
