package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.render.Labels;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads what the guards and the health check look at, by the labels every managed object carries. Blocking. */
public final class LiveState {

  private final KubernetesClient client;
  private final Retry retry;
  private final Optional<WorkloadCache> cache;
  private final NamespaceAccess access;

  /** {@code cache}, when there is one, answers the health checks between syncs without asking the API server. */
  public LiveState(KubernetesClient client, Retry retry, Optional<WorkloadCache> cache, NamespaceAccess access) {
    this.client = client;
    this.retry = retry;
    this.cache = cache;
    this.access = access;
  }

  /**
   * How the environment's objects run, as the watches last saw them: for the checks between syncs, which a status
   * change triggers. Read from the API server when there is no cache (or it has not listed yet).
   */
  public Health recentHealth(String namespace, String environment) {
    // A cache started before CloudNativePG was installed does not watch Clusters: read them from the API server.
    return answering().map(c -> Health.assess(c.observed(namespace, environment), Instant.now()))
        .orElseGet(() -> health(namespace, environment));
  }

  /**
   * How the environment's objects run right after a sync that left them as {@code left} says: the watches' copies,
   * each replaced by the sync's own where the watch has not seen that version yet (a busy cluster's watches can lag
   * by seconds), so nothing is read and nothing waited for; from the API server without watches.
   */
  public Health healthAfter(String namespace, String environment, Map<ObjectRef, HasMetadata> left) {
    Optional<WorkloadCache> watched = answering();
    if (watched.isEmpty()) return health(namespace, environment);
    Health.Observed seen = watched.get().observed(namespace, environment);
    return Health.assess(new Health.Observed(newest(seen.workloads(), left, object -> Workloads.isWorkload(object)
            || object instanceof io.fabric8.kubernetes.api.model.GenericKubernetesResource),
        seen.pods(), newest(seen.claims(), left, o -> o instanceof io.fabric8.kubernetes.api.model.PersistentVolumeClaim),
        seen.backupJobs()), Instant.now());
  }

  /**
   * {@code watched}, with each object of {@code kind} the sync left newer than the watch's copy (or that it lacks) in
   * its place. Told apart by their model class and name: a watch's list items need not carry apiVersion and kind.
   */
  @SuppressWarnings("unchecked")
  private static <T extends HasMetadata> List<T> newest(List<? extends T> watched, Map<ObjectRef, HasMetadata> left,
                                                        java.util.function.Predicate<HasMetadata> kind) {
    Map<String, T> objects = new java.util.LinkedHashMap<>();
    watched.forEach(object -> objects.put(key(object), object));
    left.values().forEach(object -> {
      if (!kind.test(object)) return;
      T known = objects.get(key(object));
      if (known == null || ResourceVersions.compare(known.getMetadata().getResourceVersion(),
          object.getMetadata().getResourceVersion()).orElse(-1) < 0) {
        objects.put(key(object), (T) object);
      }
    });
    return new ArrayList<>(objects.values());
  }

  private static String key(HasMetadata object) {
    return object.getClass().getSimpleName() + "/" + object.getMetadata().getNamespace() + "/"
        + object.getMetadata().getName();
  }

  /** The cache when it can tell health: listed, and watching CloudNativePG's Clusters where they are served. */
  private Optional<WorkloadCache> answering() {
    return cache.filter(WorkloadCache::synced).filter(c -> c.watchesClusters() || !cloudnativePgServed());
  }

  /** How the environment's applied objects run now, read from the API server (right after a sync, the cache may lag). */
  public Health health(String namespace, String environment) {
    Map<String, String> ours = Map.of(Labels.MANAGED_BY, Labels.MANAGER, Labels.ENVIRONMENT, environment);
    return retry.call(() -> Health.assess(new Health.Observed(
        workloads(namespace, ours),
        client.pods().inNamespace(namespace).withLabel(Labels.ENVIRONMENT, environment).list().getItems(),
        client.persistentVolumeClaims().inNamespace(namespace).withLabels(ours).list().getItems(),
        client.batch().v1().jobs().inNamespace(namespace).withLabel(Labels.ENVIRONMENT, environment)
            .withLabel(Labels.COMPONENT, Labels.BACKUP).list().getItems()), Instant.now()));
  }

  public boolean claimExists(String namespace, String name) {
    ObjectRef ref = new ObjectRef("v1", "PersistentVolumeClaim", namespace, name);
    if (cache.flatMap(c -> c.managed(ref)).flatMap(known -> known).isPresent()) return true; // absent there: asked
    return retry.call(() -> client.persistentVolumeClaims().inNamespace(namespace).withName(name).get()) != null;
  }

  public Optional<Secret> secret(String namespace, String name) {
    try {
      return grantedSecret(namespace, name);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 403) throw e;
      // Granted to a namespace of that name since deleted and made again: granted anew, asked once more.
      access.forget(namespace);
      return grantedSecret(namespace, name);
    }
  }

  private Optional<Secret> grantedSecret(String namespace, String name) {
    if (!retry.call(() -> access.grant(namespace))) return Optional.empty(); // no namespace, no Secret
    return Optional.ofNullable(retry.call(() -> client.secrets().inNamespace(namespace).withName(name).get()));
  }

  /** The environment's database workload of that name: its StatefulSet, or the Deployment of an earlier release. */
  public Optional<HasMetadata> database(String namespace, String name) {
    return database(new ObjectRef("apps/v1", "StatefulSet", namespace, name))
        .or(() -> database(new ObjectRef("apps/v1", "Deployment", namespace, name)));
  }

  /** The workload {@code ref} names, of its own kind, if it exists and is ours. */
  public Optional<HasMetadata> workload(ObjectRef ref) {
    return managedOrLive(ref)
        .filter(w -> w.getMetadata().getLabels() != null && Labels.MANAGER.equals(w.getMetadata().getLabels().get(Labels.MANAGED_BY)));
  }

  /** The database workload {@code ref} names, of its own kind: one request. */
  public Optional<HasMetadata> database(ObjectRef ref) {
    return managedOrLive(ref).filter(Workloads::isDatabase);
  }

  /**
   * The managed workload {@code ref} names: from the watch when it can answer, its absence included (the guards look
   * only at the environment's own workloads, and what this process applied is read back as applied until the watch
   * has it), else from the API server.
   */
  private Optional<HasMetadata> managedOrLive(ObjectRef ref) {
    return cache.flatMap(c -> c.managed(ref))
        .orElseGet(() -> Optional.ofNullable(retry.call(() -> Workloads.get(client, ref))));
  }

  private List<HasMetadata> workloads(String namespace, Map<String, String> ours) {
    List<HasMetadata> all = new ArrayList<>(client.apps().deployments().inNamespace(namespace).withLabels(ours).list().getItems());
    all.addAll(client.apps().statefulSets().inNamespace(namespace).withLabels(ours).list().getItems());
    if (cloudnativePgServed()) {
      all.addAll(client.genericKubernetesResources(CloudnativePg.API_VERSION, "Cluster").inNamespace(namespace)
          .withLabels(ours).list().getItems());
    }
    return all;
  }

  /** How long a cluster found without CloudNativePG is taken to stay so before it is asked again. */
  private static final java.time.Duration DISCOVERY_AGAIN = java.time.Duration.ofMinutes(1);
  private volatile Instant cloudnativePgAbsentSince;
  private volatile boolean cloudnativePg;

  /** Whether this cluster serves CloudNativePG's Clusters: asked once, and again a minute after it did not. */
  public boolean cloudnativePgServed() {
    if (cloudnativePg) return true;
    Instant absent = cloudnativePgAbsentSince;
    if (absent != null && Instant.now().isBefore(absent.plus(DISCOVERY_AGAIN))) return false;
    cloudnativePg = retry.call(() -> CloudnativePg.served(client));
    cloudnativePgAbsentSince = cloudnativePg ? null : Instant.now();
    return cloudnativePg;
  }
}
