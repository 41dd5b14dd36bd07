package io.langconnect.gitops.testenv;

import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * Until it is closed, ends the pods of every Job in a namespace as succeeded, as a kubelet would report them
 * ({@link PodOutcome}): for tests without the node whose sync waits for a backup Job.
 */
public final class JobsSucceed implements AutoCloseable {

  private final Thread thread;
  private volatile boolean running = true;

  private JobsSucceed(KubernetesClient client, String namespace) {
    thread = new Thread(() -> {
      while (running) {
        try {
          client.batch().v1().jobs().inNamespace(namespace).list().getItems()
              .forEach(job -> PodOutcome.finish(client, namespace, job.getMetadata().getName(), true));
          Thread.sleep(300);
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          // the next round tries again
        }
      }
    }, "jobs-succeed-" + namespace);
    thread.setDaemon(true);
    thread.start();
  }

  public static JobsSucceed in(KubernetesClient client, String namespace) {
    return new JobsSucceed(client, namespace);
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.interrupt();
    thread.join(5_000);
  }
}
