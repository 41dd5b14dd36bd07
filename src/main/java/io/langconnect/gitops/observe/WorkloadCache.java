package io.langconnect.gitops.observe;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.langconnect.gitops.render.Labels;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watch-fed copies of what the observer reads, so a collection cycle asks the API server nothing: the managed
 * Deployments and Services, the stack's pods, and the backup CronJobs and their Jobs. Every replica keeps its own
 * (each exports metrics). A list or watch that fails is tried again by fabric8, never given up.
 */
final class WorkloadCache implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(WorkloadCache.class);

  private final SharedIndexInformer<Deployment> deployments;
  private final SharedIndexInformer<Service> services;
  private final SharedIndexInformer<Pod> pods;
  private final SharedIndexInformer<CronJob> cronJobs;
  private final SharedIndexInformer<Job> jobs;

  WorkloadCache(KubernetesClient client) {
    deployments = inform("Deployments", client.apps().deployments().inAnyNamespace()
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER));
    services = inform("Services", client.services().inAnyNamespace().withLabel(Labels.MANAGED_BY, Labels.MANAGER));
    pods = inform("Pods", client.pods().inAnyNamespace().withLabel(Labels.MANAGED_BY, Labels.MANAGER));
    cronJobs = inform("CronJobs", client.batch().v1().cronjobs().inAnyNamespace()
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER).withLabel(Labels.COMPONENT, Labels.BACKUP));
    // A Job carries its CronJob's template labels; which CronJob owns it (or none: a restore) is told apart later.
    jobs = inform("Jobs", client.batch().v1().jobs().inAnyNamespace().withLabel(Labels.COMPONENT, Labels.BACKUP));
  }

  private static <T extends HasMetadata> SharedIndexInformer<T> inform(String what, Informable<T> source) {
    SharedIndexInformer<T> informer = source.runnableInformer(0);
    informer.exceptionHandler((started, error) -> {
      LOG.warn("watching {} for the metrics failed ({}); trying again", what, error.getMessage());
      return true;
    });
    return informer;
  }

  /** Starts listing and watching; completes once every kind has been listed. */
  CompletableFuture<Void> start() {
    return CompletableFuture.allOf(all().stream().map(i -> i.start().toCompletableFuture()).toArray(CompletableFuture[]::new));
  }

  /** Whether every kind has been listed once: before that, an absent object says nothing. */
  boolean synced() {
    return all().stream().allMatch(SharedIndexInformer::hasSynced);
  }

  List<Deployment> databases() {
    return deployments.getStore().list().stream()
        .filter(d -> Labels.POSTGRES.equals(d.getMetadata().getLabels().get(Labels.COMPONENT))).toList();
  }

  List<Deployment> deployments(String namespace, String release) {
    return inNamespace(deployments, namespace).stream().filter(d -> release.equals(label(d, Labels.INSTANCE))).toList();
  }

  Optional<Service> service(String namespace, String name) {
    return Optional.ofNullable(services.getStore().getByKey(Cache.namespaceKeyFunc(namespace, name)));
  }

  List<Pod> pods(String namespace) {
    return inNamespace(pods, namespace);
  }

  List<CronJob> backupCronJobs(String namespace, String release) {
    return inNamespace(cronJobs, namespace).stream().filter(c -> release.equals(label(c, Labels.INSTANCE))).toList();
  }

  List<Job> backupJobs(String namespace, String release) {
    return inNamespace(jobs, namespace).stream().filter(j -> release.equals(label(j, Labels.INSTANCE))).toList();
  }

  private static <T extends HasMetadata> List<T> inNamespace(SharedIndexInformer<T> informer, String namespace) {
    return informer.getIndexer().byIndex(Cache.NAMESPACE_INDEX, namespace);
  }

  private static String label(HasMetadata object, String name) {
    return object.getMetadata().getLabels() == null ? null : object.getMetadata().getLabels().get(name);
  }

  private List<SharedIndexInformer<? extends HasMetadata>> all() {
    return List.of(deployments, services, pods, cronJobs, jobs);
  }

  @Override
  public void close() {
    all().forEach(SharedIndexInformer::close);
  }
}
