package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
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
 * Watch-fed copies of how the stacks run, so the metrics and the health checks between syncs ask the API server
 * nothing: the managed Deployments, StatefulSets, Services and claims, the stack's pods, and the backup CronJobs and their Jobs.
 * Every replica keeps one (each exports metrics). A list or watch that fails is tried again, never given up.
 */
public final class WorkloadCache implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(WorkloadCache.class);

  private final SharedIndexInformer<Deployment> deployments;
  private final SharedIndexInformer<StatefulSet> statefulSets;
  private final SharedIndexInformer<Service> services;
  private final SharedIndexInformer<Pod> pods;
  private final SharedIndexInformer<PersistentVolumeClaim> claims;
  private final SharedIndexInformer<CronJob> cronJobs;
  private final SharedIndexInformer<Job> jobs;
  private final SharedIndexInformer<HorizontalPodAutoscaler> autoscalers;
  private final SharedIndexInformer<GenericKubernetesResource> clusters;
  private CompletableFuture<Void> started;
  /** What this process applied and the watch has not stored yet, by informer and namespace/name. */
  private final java.util.Map<String, HasMetadata> applied = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Map<SharedIndexInformer<?>, String> kinds = new java.util.concurrent.ConcurrentHashMap<>();

  public WorkloadCache(KubernetesClient client) {
    deployments = inform("Deployments", client.apps().deployments().inAnyNamespace()
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER));
    statefulSets = inform("StatefulSets", client.apps().statefulSets().inAnyNamespace()
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER));
    services = inform("Services", client.services().inAnyNamespace().withLabel(Labels.MANAGED_BY, Labels.MANAGER));
    pods = inform("Pods", client.pods().inAnyNamespace().withLabel(Labels.MANAGED_BY, Labels.MANAGER));
    claims = inform("PersistentVolumeClaims", client.persistentVolumeClaims().inAnyNamespace()
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER));
    cronJobs = inform("CronJobs", client.batch().v1().cronjobs().inAnyNamespace()
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER).withLabel(Labels.COMPONENT, Labels.BACKUP));
    // A Job carries its CronJob's template labels; which CronJob owns it (or none: a restore) is told apart later.
    jobs = inform("Jobs", client.batch().v1().jobs().inAnyNamespace().withLabel(Labels.COMPONENT, Labels.BACKUP));
    autoscalers = inform("HorizontalPodAutoscalers", client.autoscaling().v2().horizontalPodAutoscalers().inAnyNamespace()
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER));
    // CloudNativePG's Clusters, where its API is served when this starts (a cluster without the operator has none).
    clusters = servesClusters(client)
        ? inform("CloudNativePG Clusters", client.genericKubernetesResources(CloudnativePg.API_VERSION, "Cluster")
            .inAnyNamespace().withLabel(Labels.MANAGED_BY, Labels.MANAGER))
        : null;
  }

  private static boolean servesClusters(KubernetesClient client) {
    try {
      return CloudnativePg.served(client);
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      LOG.warn("cannot tell whether CloudNativePG's API is served ({}); its Clusters are read when asked", e.getMessage());
      return false;
    }
  }

  /** Whether CloudNativePG's Clusters are watched (their API was served when this started). */
  public boolean watchesClusters() {
    return clusters != null;
  }

  private <T extends HasMetadata> SharedIndexInformer<T> inform(String what, Informable<T> source) {
    // Each version the watch stores ends what this process applied of that object, once the watch has it.
    SharedIndexInformer<T> informer = source.runnableInformer(0).itemStore(new TrimmedStore<>((key, stored) ->
        applied.computeIfPresent(what + "|" + key, (k, mine) -> ResourceVersions.compare(
            stored.getMetadata().getResourceVersion(), mine.getMetadata().getResourceVersion()).orElse(1) >= 0 ? null : mine)));
    kinds.put(informer, what);
    informer.exceptionHandler((started, error) -> {
      LOG.warn("watching {} for the metrics failed ({}); trying again", what, error.getMessage());
      return true;
    });
    return informer;
  }

  /** Starts listing and watching (once, whoever asks first); completes once every kind has been listed. */
  public synchronized CompletableFuture<Void> start() {
    if (started == null) {
      started = CompletableFuture.allOf(all().stream().map(i -> i.start().toCompletableFuture())
          .toArray(CompletableFuture[]::new));
    }
    return started;
  }

  /** Whether every kind has been listed once: before that, an absent object says nothing. */
  public boolean synced() {
    return all().stream().allMatch(SharedIndexInformer::hasSynced);
  }

  /** The managed databases: StatefulSets, and the Deployments of environments a sync has not moved over yet. */
  public List<HasMetadata> databases() {
    return java.util.stream.Stream.concat(statefulSets.getStore().list().stream(), deployments.getStore().list().stream())
        .filter(d -> Labels.POSTGRES.equals(label(d, Labels.COMPONENT))).map(HasMetadata.class::cast).toList();
  }

  /** LangConnect Deployments whose database is not one of ours: their variables say where it is. */
  public List<HasMetadata> externalDatabaseClients() {
    return deployments.getStore().list().stream()
        .filter(d -> Labels.LANGCONNECT.equals(label(d, Labels.COMPONENT)))
        .filter(d -> d.getMetadata().getAnnotations() != null
            && d.getMetadata().getAnnotations().containsKey(Labels.ENGINE_ANNOTATION))
        .map(HasMetadata.class::cast).toList();
  }

  /** The Deployments and StatefulSets of one release (not its CloudNativePG Cluster: the operator's pods are not ours). */
  public List<HasMetadata> workloads(String namespace, String release) {
    return workloads(namespace).stream().filter(Workloads::isWorkload)
        .filter(d -> release.equals(label(d, Labels.INSTANCE))).toList();
  }

  private List<HasMetadata> workloads(String namespace) {
    List<HasMetadata> all = new java.util.ArrayList<>(inNamespace(deployments, namespace));
    all.addAll(inNamespace(statefulSets, namespace));
    if (clusters != null) all.addAll(inNamespace(clusters, namespace));
    return all;
  }

  public Optional<Service> service(String namespace, String name) {
    return Optional.ofNullable(services.getStore().getByKey(Cache.namespaceKeyFunc(namespace, name)));
  }

  public List<Pod> pods(String namespace) {
    return inNamespace(pods, namespace);
  }

  /**
   * Whether the release runs a pod of {@code component} that is Ready, as the watch last saw: without one, its
   * Service has no endpoint and nothing behind it can answer.
   */
  public boolean readyPod(String namespace, String release, String component) {
    return inNamespace(pods, namespace).stream()
        .filter(pod -> release.equals(label(pod, Labels.INSTANCE)) && component.equals(label(pod, Labels.COMPONENT)))
        .anyMatch(pod -> pod.getMetadata().getDeletionTimestamp() == null && pod.getStatus() != null
            && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())));
  }

  /** Whether the release's database is one of ours (a StatefulSet, or an earlier release's Deployment). */
  public boolean bundledDatabase(String namespace, String release) {
    return workloads(namespace, release).stream().anyMatch(Workloads::isDatabase);
  }

  public List<CronJob> backupCronJobs(String namespace, String release) {
    return inNamespace(cronJobs, namespace).stream().filter(c -> release.equals(label(c, Labels.INSTANCE))).toList();
  }

  public List<Job> backupJobs(String namespace, String release) {
    return inNamespace(jobs, namespace).stream().filter(j -> release.equals(label(j, Labels.INSTANCE))).toList();
  }

  /**
   * Tells {@code handler} of every change to an object the controller applies (all its kinds but Secrets, which
   * are not watched: that would need the right to list every Secret of the cluster), until {@link #unlisten}.
   */
  public void listen(ResourceEventHandler<HasMetadata> handler) {
    applied().forEach(informer -> informer.addEventHandler(handler));
  }

  public void unlisten(ResourceEventHandler<HasMetadata> handler) {
    applied().forEach(informer -> informer.removeEventHandler(handler));
  }

  /** Whether the watch holds managed objects in {@code namespace} (every stack has Services): then it exists. */
  public boolean holdsObjectsIn(String namespace) {
    return services.hasSynced() && !inNamespace(services, namespace).isEmpty();
  }

  /**
   * The managed object {@code ref} names as the watch last saw it: empty when this cache does not hold its kind or has
   * not listed yet (ask the API server), else the object or its absence among the managed ones (an object of that
   * name without the managed-by label may still exist).
   */
  public Optional<Optional<HasMetadata>> managed(ObjectRef ref) {
    SharedIndexInformer<? extends HasMetadata> informer = holding(ref);
    if (informer == null || !informer.hasSynced()) return Optional.empty();
    HasMetadata watched = informer.getStore().getByKey(Cache.namespaceKeyFunc(ref.namespace(), ref.name()));
    HasMetadata mine = applied.get(appliedKey(informer, ref));
    if (mine == null) return Optional.of(Optional.ofNullable(watched));
    if (watched != null && ResourceVersions.compare(watched.getMetadata().getResourceVersion(),
        mine.getMetadata().getResourceVersion()).orElse(1) >= 0) {
      applied.remove(appliedKey(informer, ref), mine); // the watch stored it before this process noted it
      return Optional.of(Optional.of(watched));
    }
    return Optional.of(Optional.of(mine));
  }

  /**
   * An object as this process's apply left it: read back from here until the watch has that version, so that the
   * next sync of its environment (a push a moment later) never sees it older than it is, however far the watch lags.
   */
  public void applied(HasMetadata object) {
    ObjectRef ref = ObjectRef.of(object);
    SharedIndexInformer<? extends HasMetadata> informer = holding(ref);
    if (informer == null) return;
    List<io.fabric8.kubernetes.api.model.ManagedFieldsEntry> entries = object.getMetadata().getManagedFields();
    if (entries != null) entries.forEach(entry -> entry.setFieldsV1(null)); // as the watch keeps them
    applied.put(appliedKey(informer, ref), object);
  }

  /** An object this process deleted: what it applied before is forgotten. */
  public void deleted(ObjectRef ref) {
    SharedIndexInformer<? extends HasMetadata> informer = holding(ref);
    if (informer != null) applied.remove(appliedKey(informer, ref));
  }

  /** Where {@link #applied} keeps {@code ref}: its informer's name and its store key, as the store callback sees it. */
  private String appliedKey(SharedIndexInformer<? extends HasMetadata> informer, ObjectRef ref) {
    return kinds.get(informer) + "|" + Cache.namespaceKeyFunc(ref.namespace(), ref.name());
  }

  /**
   * Whether the watch has seen each object at the version given or later (kinds this cache does not hold need not
   * be waited for): once it has, the health read here is that of what a sync just applied.
   */
  public boolean seen(java.util.Map<ObjectRef, String> versions) {
    for (var version : versions.entrySet()) {
      SharedIndexInformer<? extends HasMetadata> informer = holding(version.getKey());
      if (informer == null) continue;
      HasMetadata cached = informer.getStore().getByKey(Cache.namespaceKeyFunc(version.getKey().namespace(),
          version.getKey().name()));
      if (cached == null || ResourceVersions.compare(cached.getMetadata().getResourceVersion(), version.getValue())
          .orElse(-1) < 0) {
        return false;
      }
    }
    return true;
  }

  /** The informer that holds objects of {@code ref}'s kind and API version, or null. */
  private SharedIndexInformer<? extends HasMetadata> holding(ObjectRef ref) {
    return switch (ref.apiVersion() + "/" + ref.kind()) {
      case "apps/v1/Deployment" -> deployments;
      case "apps/v1/StatefulSet" -> statefulSets;
      case "v1/Service" -> services;
      case "v1/PersistentVolumeClaim" -> claims;
      case "batch/v1/CronJob" -> cronJobs;
      case "autoscaling/v2/HorizontalPodAutoscaler" -> autoscalers;
      case CloudnativePg.API_VERSION + "/Cluster" -> clusters;
      default -> null;
    };
  }

  /** What the health check looks at, for one environment (by its label) in its namespace. */
  public Health.Observed observed(String namespace, String environment) {
    return new Health.Observed(
        ofEnvironment(workloads(namespace), environment),
        ofEnvironment(inNamespace(pods, namespace), environment),
        ofEnvironment(inNamespace(claims, namespace), environment),
        ofEnvironment(inNamespace(jobs, namespace), environment));
  }

  private static <T extends HasMetadata> List<T> ofEnvironment(List<T> objects, String environment) {
    return objects.stream().filter(o -> environment.equals(label(o, Labels.ENVIRONMENT))).toList();
  }

  private static <T extends HasMetadata> List<T> inNamespace(SharedIndexInformer<T> informer, String namespace) {
    return informer.getIndexer().byIndex(Cache.NAMESPACE_INDEX, namespace);
  }

  private static String label(HasMetadata object, String name) {
    return object.getMetadata().getLabels() == null ? null : object.getMetadata().getLabels().get(name);
  }

  private List<SharedIndexInformer<? extends HasMetadata>> applied() {
    List<SharedIndexInformer<? extends HasMetadata>> applied = new java.util.ArrayList<>(
        List.of(deployments, statefulSets, services, claims, cronJobs, autoscalers));
    if (clusters != null) applied.add(clusters);
    return applied;
  }

  private List<SharedIndexInformer<? extends HasMetadata>> all() {
    List<SharedIndexInformer<? extends HasMetadata>> all = new java.util.ArrayList<>(applied());
    all.addAll(List.of(pods, jobs));
    return all;
  }

  @Override
  public void close() {
    all().forEach(SharedIndexInformer::close);
  }
}
