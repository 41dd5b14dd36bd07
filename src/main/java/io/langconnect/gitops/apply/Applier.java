package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.apply.SyncResult.Action;
import io.langconnect.gitops.apply.SyncResult.ObjectResult;
import io.langconnect.gitops.render.Labels;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Applies one environment's rendered objects with server-side apply, in order, waiting (bounded) for
 * PostgreSQL before LangConnect; then prunes what the previous inventory has and the render lacks,
 * except PersistentVolumeClaims and Namespaces. An object whose content is unchanged since the last
 * apply and whose live state has not drifted is not written at all. Blocking: call from a worker.
 */
public final class Applier {

  private static final Logger LOG = LoggerFactory.getLogger(Applier.class);
  private static final KubernetesSerialization JSON = new KubernetesSerialization();
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Threads that wait for the reads of {@link #live}; they end when idle. */
  private static final ExecutorService READS = readers();

  /**
   * How to apply: for real or as a server-side dry run, how long to wait for the database, and what must happen
   * before a change that restarts it ({@link BeforeDatabaseRestart#NONE} for nothing).
   */
  public record Options(boolean dryRun, Duration databaseReadyTimeout, BeforeDatabaseRestart beforeRestart) {
    public Options(boolean dryRun, Duration databaseReadyTimeout) {
      this(dryRun, databaseReadyTimeout, BeforeDatabaseRestart.NONE);
    }
  }

  /** Runs before an apply that would restart PostgreSQL (its pod template changes); returns why to hold it, or empty. */
  @FunctionalInterface
  public interface BeforeDatabaseRestart {
    BeforeDatabaseRestart NONE = (live, changed) -> Optional.empty();

    /** {@code live} is the running database workload; {@code changed} says what changes; empty means go on. */
    Optional<String> run(HasMetadata live, List<String> changed);
  }

  private final KubernetesClient client;
  private final Retry retry;
  private final NamespaceAccess access;
  private final Optional<WorkloadCache> cache;

  public Applier(KubernetesClient client, Retry retry) {
    this(client, retry, new NamespaceAccess(client), Optional.empty());
  }

  /** The live objects {@code cache} holds (the managed ones of the kinds it watches) are read from it, not asked for. */
  public Applier(KubernetesClient client, Retry retry, NamespaceAccess access, Optional<WorkloadCache> cache) {
    this.client = client;
    this.retry = retry;
    this.access = access;
    this.cache = cache;
  }

  public SyncResult apply(String environment, String namespace, List<HasMetadata> desired, String revision,
                          Inventory previous, Options options) throws SyncFailedException {
    List<ObjectResult> results = new ArrayList<>();
    Map<ObjectRef, Inventory.Entry> applied = new LinkedHashMap<>();
    Map<ObjectRef, HasMetadata> left = new HashMap<>();
    try {
      // A dry run cannot ask the API server about objects in a namespace that does not exist yet: all are new.
      boolean allNew = options.dryRun() && !namespaceExists(namespace);
      boolean madeNow = false;
      if (!allNew) {
        madeNow = ensureNamespace(namespace, environment, options.dryRun());
        retry.call(() -> access.grant(namespace)); // before the first read of its Secrets
      }
      // A namespace this sync made holds nothing yet: there is nothing live to read, and no pod mounts a claim.
      Map<ObjectRef, HasMetadata> live = allNew || madeNow ? Map.of() : live(desired);
      refuseWhatIsNotOurs(environment, live);
      Optional<String> replacementHeld = Optional.empty();
      if (!options.dryRun()) {
        Replaced replaced = stopReplacedDatabases(environment, desired, previous, options);
        results.addAll(replaced.results());
        replacementHeld = replaced.held();
        // A held replacement leaves the old database running: it stays on record, and is not pruned below.
        if (replacementHeld.isPresent()) replaced.kept().forEach(ref -> applied.put(ref, previous.entry(ref).orElseThrow()));
      }
      Map<String, String> secretVersions = new HashMap<>();
      for (HasMetadata rendered : desired) {
        ObjectRef ref = ObjectRef.of(rendered);
        if (allNew) {
          results.add(new ObjectResult(ref, Action.CREATED, List.of()));
          continue;
        }
        HasMetadata object = withSecretVersions(rendered, secretVersions);
        String hash = hash(object);
        Inventory.Entry before = previous.entry(ref).orElse(null);
        HasMetadata current = live.get(ref);
        HasMetadata prepared = prepare(object, current);
        boolean database = Workloads.isDatabase(object) && !options.dryRun();
        Optional<String> held = database && current == null ? replacementHeld
            : database && (before == null || !before.hash().equals(hash))
            ? holdRestart(prepared, current, options.beforeRestart()) : Optional.empty();
        if (held.isPresent()) {
          // The running database stays as it is; its old entry is kept so the next sync tries again.
          results.add(new ObjectResult(ref, Action.HELD, List.of(), held.get()));
          if (before != null) applied.put(ref, before);
          continue;
        }
        if (database && current == null && !madeNow) awaitClaimsFree(prepared, options.databaseReadyTimeout(), results);
        Applied done = applyOne(prepared, hash, before, revision, options.dryRun(), current);
        ObjectResult result = done.result();
        results.add(result);
        if (done.object() != null) left.put(ref, done.object());
        if (done.object() != null && result.action() != Action.UNCHANGED) cache.ifPresent(c -> c.applied(done.object()));
        if (object instanceof Secret) secretVersions.put(ref.name(), secretVersion(options.dryRun() ? current : done.object()));
        applied.put(ref, result.action() == Action.UNCHANGED && before != null ? before : new Inventory.Entry(hash, revision));
        if (database) awaitAvailable(object, Optional.ofNullable(left.get(ref)).map(o -> o.getMetadata().getResourceVersion())
            .orElse(null), options.databaseReadyTimeout(), results);
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() == 403) access.forget(namespace); // granted to a namespace since deleted: granted again next time
      throw new SyncFailedException(describe(e), results, SyncFailedException.Reason.API_ERROR, e);
    }
    Set<ObjectRef> keep = new HashSet<>(applied.keySet());
    results.forEach(r -> {
      if (r.action() == Action.PRUNED) keep.add(r.ref()); // already pruned, first
    });
    for (ObjectRef gone : previous.objects().keySet()) {
      if (keep.contains(gone)) continue;
      results.add(prune(gone, environment, options.dryRun()));
    }
    return new SyncResult(results, new Inventory(environment, namespace, revision, applied), left);
  }

  /** What stopping the databases a render no longer has did: their results, or why it waits (and which it kept). */
  private record Replaced(List<ObjectResult> results, Optional<String> held, List<ObjectRef> kept) {}

  /**
   * A database workload the render no longer has (the Deployment of an earlier release, now a StatefulSet; a renamed
   * release) is stopped before its successor starts: one environment never runs two PostgreSQL servers, and the
   * successor finds its claim free. With {@code beforeRestart} set, its backup runs first; if that holds, the old
   * database keeps running and its successor waits.
   */
  private Replaced stopReplacedDatabases(String environment, List<HasMetadata> desired, Inventory previous,
                                         Options options) throws SyncFailedException {
    Set<ObjectRef> desiredRefs = new HashSet<>();
    desired.forEach(object -> desiredRefs.add(ObjectRef.of(object)));
    HasMetadata successor = desired.stream().filter(Workloads::isDatabase).findFirst().orElse(null);
    List<ObjectResult> results = new ArrayList<>();
    for (ObjectRef old : previous.objects().keySet()) {
      if (!Workloads.isWorkloadKind(old.kind()) || desiredRefs.contains(old) || successor == null) continue;
      HasMetadata running = retry.call(() -> Workloads.get(client, old));
      if (running == null || !Workloads.isDatabase(running)) continue;
      String change = old.kind() + " " + old.name() + " gives way to " + successor.getKind() + " "
          + successor.getMetadata().getName();
      Optional<String> held = options.beforeRestart().run(running, List.of(change));
      if (held.isPresent()) return new Replaced(results, held, List.of(old));
      LOG.info("stopping the database {} in {} before its successor starts: {}", old, old.namespace(), change);
      ObjectResult pruned = prune(old, environment, false);
      if (pruned.action() != Action.PRUNED) {
        results.add(pruned);
        throw new SyncFailedException("the old database " + old + " in " + old.namespace() + " is not this"
            + " environment's to stop (" + pruned.note() + "); its successor is not started beside it", results,
            SyncFailedException.Reason.NOT_OURS, null);
      }
      results.add(new ObjectResult(old, Action.PRUNED, List.of(), REPLACED + change
          + ", stopped first so that no two servers share the data"));
    }
    return new Replaced(results, Optional.empty(), List.of());
  }

  /** The note of a database workload stopped for its successor: {@link SyncResult#replacedDatabase()} finds it. */
  static final String REPLACED = "database replaced: ";

  /**
   * A database is started on a claim only once no pod mounts it: the pod of a database just stopped (or of an
   * earlier attempt) may still be shutting down, and two postmasters must never share one data directory.
   */
  private void awaitClaimsFree(HasMetadata database, Duration timeout, List<ObjectResult> results)
      throws SyncFailedException {
    String namespace = database.getMetadata().getNamespace();
    for (String claim : Workloads.claims(database)) {
      List<String> users = new ArrayList<>();
      boolean free = pollUntil(() -> {
        users.clear();
        users.addAll(podsMounting(namespace, claim));
        return users.isEmpty();
      }, timeout.compareTo(Duration.ofSeconds(30)) > 0 ? timeout : Duration.ofSeconds(30), Duration.ofMillis(500));
      if (!free) {
        throw new SyncFailedException("PersistentVolumeClaim " + claim + " in " + namespace + " is still mounted by pod "
            + String.join(", ", users) + " after " + Math.max(30, timeout.toSeconds()) + "s; the database "
            + database.getMetadata().getName() + " is not started on it until the claim is free", results,
            SyncFailedException.Reason.DATABASE_NOT_READY, null);
      }
    }
  }

  /**
   * Pods that mount {@code claim} and still run or are still on their way out: a pod being deleted counts until it
   * is gone from the API server, as a StatefulSet waits for its pod-0; one that ended and stays (an evicted pod no
   * one deletes) runs nothing and does not hold the claim.
   */
  private List<String> podsMounting(String namespace, String claim) {
    return retry.call(() -> client.pods().inNamespace(namespace).list()).getItems().stream()
        .filter(pod -> pod.getMetadata().getDeletionTimestamp() != null || pod.getStatus() == null
            || !Set.of("Succeeded", "Failed").contains(pod.getStatus().getPhase()))
        .filter(pod -> pod.getSpec().getVolumes().stream().anyMatch(v -> v.getPersistentVolumeClaim() != null
            && claim.equals(v.getPersistentVolumeClaim().getClaimName())))
        .map(pod -> pod.getMetadata().getName()).toList();
  }

  /**
   * Asks {@code done} every {@code every} until it says yes (true) or {@code timeout} passed (false).
   */
  private static boolean pollUntil(java.util.function.BooleanSupplier done, Duration timeout, Duration every) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (done.getAsBoolean()) return true;
      if (System.nanoTime() > deadline) return false;
      try {
        Thread.sleep(every.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  /**
   * Prunes every object of an environment whose values file was removed, or that moved away: PVCs, the namespace and
   * a generated password stay. The data directory on a kept claim knows only that password, so an environment that
   * comes back (a reverted removal) logs in to its own data with it.
   */
  public SyncResult pruneAll(Inventory previous, boolean dryRun) {
    List<ObjectResult> results = new ArrayList<>();
    if (!retry.call(() -> access.grant(previous.namespace()))) {
      return new SyncResult(results, Inventory.empty(previous.environment())); // its namespace is gone, and all in it
    }
    previous.objects().keySet().forEach(ref -> results.add(ref.kind().equals("Secret") && isGeneratedPassword(ref)
        ? new ObjectResult(ref, Action.RETAINED, List.of(), "the generated password of the kept data")
        : prune(ref, previous.environment(), dryRun)));
    return new SyncResult(results, Inventory.empty(previous.environment()));
  }

  /**
   * The live objects of a render, by reference (absent ones left out). The managed objects the watch holds are read
   * from it; the rest (Secrets, and names it holds no managed object of, which someone else's may have) from the API
   * server, at once: a sync waits for one round trip here, not one per object.
   */
  private Map<ObjectRef, HasMetadata> live(List<HasMetadata> desired) {
    Map<ObjectRef, HasMetadata> live = new HashMap<>();
    List<HasMetadata> asked = new ArrayList<>();
    for (HasMetadata object : desired) {
      Optional<HasMetadata> watched = cache.flatMap(c -> c.managed(ObjectRef.of(object))).flatMap(known -> known);
      if (watched.isPresent()) live.put(ObjectRef.of(object), watched.get());
      else asked.add(object);
    }
    List<CompletableFuture<HasMetadata>> reads = asked.stream()
        .map(object -> CompletableFuture.supplyAsync(() -> retry.call(() -> client.resource(object).get()), READS))
        .toList();
    try {
      for (int i = 0; i < asked.size(); i++) {
        HasMetadata current = reads.get(i).get();
        if (current != null) live.put(ObjectRef.of(asked.get(i)), current);
      }
    } catch (InterruptedException e) {
      reads.forEach(read -> read.cancel(true));
      Thread.currentThread().interrupt();
      throw new KubernetesClientException("interrupted while reading the live objects", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException failure) throw failure;
      throw new KubernetesClientException(e.getCause().getMessage(), e.getCause());
    }
    return live;
  }

  /** An object of the same name that someone else made is never taken over: the whole environment waits. */
  private static void refuseWhatIsNotOurs(String environment, Map<ObjectRef, HasMetadata> live) throws SyncFailedException {
    List<String> conflicts = live.entrySet().stream().filter(e -> !Ownership.isOurs(e.getValue(), environment))
        .map(e -> e.getKey() + " (" + Ownership.describe(e.getValue()) + ")").sorted().toList();
    if (conflicts.isEmpty()) return;
    String namespace = live.keySet().iterator().next().namespace();
    throw new SyncFailedException("not applied: " + String.join(", ", conflicts) + " in " + namespace
        + " already exist and are not this environment's; nothing was changed. Rename the release, remove them, or label"
        + " them " + Labels.MANAGED_BY + "=" + Labels.MANAGER + " and " + Labels.ENVIRONMENT + "=" + environment
        + " to hand them over", List.of(), SyncFailedException.Reason.NOT_OURS, null);
  }

  /** What applying one object did, and the object as it was left (the apply's answer, or the live one unchanged). */
  private record Applied(ObjectResult result, HasMetadata object) {}

  private Applied applyOne(HasMetadata object, String hash, Inventory.Entry before, String revision,
                           boolean dryRun, HasMetadata live) {
    List<String> drifted = List.of();
    if (live != null) {
      drifted = DriftCheck.differences(JSON.convertValue(object, JsonNode.class), JSON.convertValue(live, JsonNode.class));
      boolean sameContent = before != null && before.hash().equals(hash);
      if (sameContent && drifted.isEmpty()) {
        return new Applied(new ObjectResult(ObjectRef.of(object), Action.UNCHANGED, List.of()), live);
      }
      if (!sameContent) drifted = List.of();
    }
    object.getMetadata().getAnnotations().put(Labels.REVISION_ANNOTATION, revision);
    HasMetadata answer;
    try {
      answer = retry.call(() -> {
        var resource = dryRun ? client.resource(object).dryRun() : client.resource(object);
        return resource.fieldManager(Labels.MANAGER).forceConflicts().serverSideApply();
      });
    } catch (KubernetesClientException refused) {
      // (A Secret has no such lists, and what the API server says of one is not logged.)
      if (refused.getCode() != 422 || live == null || object instanceof Secret) throw refused;
      // A hand edit of a list entry's key (a Service port's number, with kubectl edit) keeps that entry under the
      // edit's manager: server-side apply merges ours beside it, under the same name, and the API server refuses
      // the pair. The object is ours (checked before): a merge patch of it as rendered replaces such lists whole,
      // and leaves what it does not name (assigned IPs, others' labels and annotations). Anything else invalid
      // stays refused as it was.
      LOG.warn("{} in {} cannot be merged with a hand edit ({}): its lists are put back as rendered", ObjectRef.of(object),
          object.getMetadata().getNamespace(), refused.getStatus() == null ? refused.getMessage() : refused.getStatus().getMessage());
      PatchContext merge = new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE).withFieldManager(Labels.MANAGER)
          .withDryRun(dryRun ? List.of("All") : null).build();
      try {
        answer = retry.call(() -> client.resource(object).patch(merge, JSON.asJson(object)));
      } catch (KubernetesClientException stillRefused) {
        throw refused;
      }
    }
    if (!drifted.isEmpty()) {
      LOG.info("corrected drift of {} in {}: {}", ObjectRef.of(object), object.getMetadata().getNamespace(),
          String.join(", ", drifted));
    }
    return new Applied(new ObjectResult(ObjectRef.of(object), live == null ? Action.CREATED : Action.CONFIGURED, drifted),
        dryRun ? null : answer);
  }

  /**
   * Asks the API server what the database workload would become (a server-side dry run, defaults filled in as the live one
   * has them) and, when its pod template would change, runs the hook: a changed template restarts the database.
   */
  private Optional<String> holdRestart(HasMetadata desired, HasMetadata live, BeforeDatabaseRestart hook) {
    if (hook == BeforeDatabaseRestart.NONE) return Optional.empty();
    HasMetadata after = retry.call(() -> client.resource(JSON.clone(desired)).dryRun().fieldManager(Labels.MANAGER)
        .forceConflicts().serverSideApply());
    JsonNode next = JSON.convertValue(after, JsonNode.class).path("spec").path("template");
    JsonNode now = JSON.convertValue(live, JsonNode.class).path("spec").path("template");
    if (next.equals(now)) return Optional.empty();
    List<String> changed = DriftCheck.differences(next, now).stream().map(path -> "spec.template" + path).toList();
    return hook.run(live, changed.isEmpty() ? List.of("spec.template") : changed);
  }

  /**
   * A workload whose pods read Secrets carries, in its pod template, a hash of those Secrets' uids and
   * resourceVersions ({@code versions}: as this sync left them, else read): a rewritten Secret rolls the pods, and the
   * annotation tells whoever can read pods nothing about the content. Anything else is returned as it is.
   */
  private HasMetadata withSecretVersions(HasMetadata rendered, Map<String, String> versions) {
    String placeholder = Workloads.isWorkloadKind(rendered.getKind()) ? podAnnotations(rendered)
        .get(Labels.SECRET_CHECKSUM_ANNOTATION) : null;
    if (placeholder == null || !placeholder.startsWith(Labels.SECRETS_PREFIX)) return rendered;
    String namespace = rendered.getMetadata().getNamespace();
    StringBuilder content = new StringBuilder();
    for (String name : placeholder.substring(Labels.SECRETS_PREFIX.length()).split(",")) {
      String version = versions.computeIfAbsent(name, secret -> secretVersion(liveSecret(namespace, secret)));
      content.append(name).append('=').append(version).append('\n');
    }
    HasMetadata resolved = JSON.clone(rendered);
    podAnnotations(resolved).put(Labels.SECRET_CHECKSUM_ANNOTATION, sha256Hex(content.toString(), 16));
    return resolved;
  }

  private Secret liveSecret(String namespace, String name) {
    return retry.call(() -> client.secrets().inNamespace(namespace).withName(name).get());
  }

  private static String secretVersion(HasMetadata secret) {
    return secret == null ? "absent" : secret.getMetadata().getUid() + ":" + secret.getMetadata().getResourceVersion();
  }

  /** The pod template's annotations of a Deployment or StatefulSet (a live map: changes land in the object). */
  private static Map<String, String> podAnnotations(HasMetadata workload) {
    var meta = workload instanceof io.fabric8.kubernetes.api.model.apps.Deployment deployment
        ? deployment.getSpec().getTemplate().getMetadata()
        : ((io.fabric8.kubernetes.api.model.apps.StatefulSet) workload).getSpec().getTemplate().getMetadata();
    if (meta.getAnnotations() == null) meta.setAnnotations(new LinkedHashMap<>());
    return meta.getAnnotations();
  }

  /** A copy ready to apply: annotations present, and a generated password kept ({@code live} is the Secret now) or created. */
  private HasMetadata prepare(HasMetadata rendered, HasMetadata live) {
    HasMetadata object = JSON.clone(rendered);
    if (object.getMetadata().getAnnotations() == null) object.getMetadata().setAnnotations(new LinkedHashMap<>());
    if (object instanceof Secret secret && object.getMetadata().getAnnotations().containsKey(Labels.GENERATE_PASSWORD_ANNOTATION)) {
      String key = object.getMetadata().getAnnotations().get(Labels.GENERATE_PASSWORD_ANNOTATION);
      String existing = live instanceof Secret current && current.getData() != null ? current.getData().get(key) : null;
      if (existing == null) {
        LOG.info("generating the database password of Secret {}/{} (kept by later syncs)",
            secret.getMetadata().getNamespace(), secret.getMetadata().getName());
      }
      secret.setData(Map.of(key, existing != null ? existing : generatePassword()));
    }
    return object;
  }

  private static String generatePassword() {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    return Base64.getEncoder().encodeToString(password.getBytes(StandardCharsets.UTF_8));
  }

  private static ExecutorService readers() {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(16, 16, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), task -> {
      Thread thread = new Thread(task, "langconnect-live-read");
      thread.setDaemon(true);
      return thread;
    });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /**
   * Waits for the database to be available, polling the watch's copy once it has seen the version applied
   * ({@code version}), else the API server; a zero timeout means do not wait. A workload deleted meanwhile (its
   * namespace going) ends the wait at once: it cannot become available, and the sync holding on to it would keep
   * every other environment's sync waiting behind it.
   */
  private void awaitAvailable(HasMetadata workload, String version, Duration timeout, List<ObjectResult> results)
      throws SyncFailedException {
    if (timeout.isZero()) return;
    ObjectRef ref = ObjectRef.of(workload);
    Optional<WorkloadCache> watched = cache.filter(c -> version != null
        && pollUntil(() -> c.seen(Map.of(ref, version)), Duration.ofSeconds(2), Duration.ofMillis(5)));
    boolean[] deleted = {false};
    boolean available = pollUntil(() -> {
      HasMetadata live = watched.map(c -> c.managed(ref).flatMap(known -> known).orElse(null))
          .orElseGet(() -> retry.call(() -> client.resource(workload).get()));
      deleted[0] = live == null || live.getMetadata().getDeletionTimestamp() != null;
      return deleted[0] || Health.rollout(live).isEmpty();
    }, timeout, watched.isPresent() ? Duration.ofMillis(50) : Duration.ofMillis(500));
    String ns = workload.getMetadata().getNamespace();
    String what = "PostgreSQL " + workload.getKind() + " " + workload.getMetadata().getName() + " in " + ns;
    if (deleted[0]) {
      throw new SyncFailedException(what + " was deleted while the sync waited for it to become available;"
          + " LangConnect was not updated and nothing was pruned", results, SyncFailedException.Reason.DATABASE_NOT_READY,
          null);
    }
    if (!available) {
      throw new SyncFailedException(what + " is not available after " + timeout.toSeconds() + "s; LangConnect was not"
          + " updated and nothing was pruned. Check `kubectl -n " + ns + " describe pod -l " + Labels.COMPONENT + "="
          + Labels.POSTGRES + "`", results, SyncFailedException.Reason.DATABASE_NOT_READY, null);
    }
  }

  /**
   * Deletes an object the render no longer has, if and only if it is ours: read first, deleted only while it
   * still is the object read (its resourceVersion), never when it lacks our labels. Data kinds are kept.
   */
  private ObjectResult prune(ObjectRef ref, String environment, boolean dryRun) {
    if (ref.isRetainedOnPrune()) {
      LOG.info("keeping {} in {}: pruning never deletes data", ref, ref.namespace());
      return new ObjectResult(ref, Action.RETAINED, List.of());
    }
    var resource = client.genericKubernetesResources(ref.apiVersion(), ref.kind()).inNamespace(ref.namespace()).withName(ref.name());
    return retry.call(() -> {
      HasMetadata live = resource.get();
      if (live == null) return new ObjectResult(ref, Action.PRUNED, List.of()); // already gone
      if (!Ownership.isOurs(live, environment)) {
        LOG.warn("not pruning {} in {}: it is not this environment's ({})", ref, ref.namespace(), Ownership.describe(live));
        return new ObjectResult(ref, Action.SKIPPED, List.of(), "not ours: " + Ownership.describe(live));
      }
      if (!dryRun) {
        // Deleted only while it is still the object just read (a precondition on its resourceVersion).
        resource.lockResourceVersion(live.getMetadata().getResourceVersion()).delete();
        cache.ifPresent(c -> c.deleted(ref));
        LOG.info("pruned {} in {}", ref, ref.namespace());
      }
      return new ObjectResult(ref, Action.PRUNED, List.of());
    });
  }

  private boolean isGeneratedPassword(ObjectRef ref) {
    Secret live = liveSecret(ref.namespace(), ref.name());
    return live != null && live.getMetadata().getAnnotations() != null
        && live.getMetadata().getAnnotations().containsKey(Labels.GENERATE_PASSWORD_ANNOTATION);
  }

  /**
   * Makes the namespace when it is missing; one the watch holds managed objects in exists (or is going, which the
   * applies then say), and is not asked for. True when this call made it.
   */
  private boolean ensureNamespace(String namespace, String environment, boolean dryRun) {
    if (dryRun || cache.map(c -> c.holdsObjectsIn(namespace)).orElse(false)) return false;
    boolean made = retry.call(() -> Namespaces.ensure(client, namespace, Map.of(Labels.ENVIRONMENT, environment)));
    if (made) {
      access.forget(namespace); // a namespace made anew has no grant yet, whatever an earlier one of its name had
      LOG.info("created namespace {} for environment {}", namespace, environment);
    }
    return made;
  }

  /** The content hash of a rendered object (its revision annotation excluded, so a new commit alone changes nothing). */
  static String hash(HasMetadata object) {
    return sha256Hex(JSON.asJson(object), 12);
  }

  /** The first {@code bytes} bytes of the SHA-256 of {@code content}, in hex. */
  private static String sha256Hex(String content, int bytes) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }

  /** An API failure as one line: no answer, or the status the API server answered with and its message. */
  public static String describe(KubernetesClientException e) {
    String status = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
    return e.getCode() <= 0 ? "no answer from the API server: " + status : "API server answered " + e.getCode() + ": " + status;
  }

  /** The live object, or empty. */
  public Optional<HasMetadata> live(HasMetadata object) {
    return Optional.ofNullable(retry.call(() -> client.resource(object).get()));
  }

  /** What the object would look like after an apply (a server-side dry run), for diff. */
  public HasMetadata preview(HasMetadata rendered) {
    HasMetadata object = prepare(withSecretVersions(rendered, new HashMap<>()), live(rendered).orElse(null));
    return retry.call(() -> client.resource(object).dryRun().fieldManager(Labels.MANAGER).forceConflicts()
        .serverSideApply());
  }

  /** What {@link #retainVolumes} found of one claim: its volume ("" while unbound), and whether it set the policy now. */
  public record Volume(String claim, String volume, String policy, boolean changed) {
    public boolean bound() {
      return !volume.isEmpty();
    }
  }

  /**
   * Sets the reclaim policy of the volumes bound to {@code claims} to {@code policy}: with Retain, a deleted claim (or
   * namespace) leaves its volume and the data on it. A volume is changed only while its claimRef names the claim
   * it was read through (namespace, name and uid): one bound to anything else is not this environment's.
   */
  public List<Volume> retainVolumes(String namespace, List<String> claims, String policy) {
    List<Volume> volumes = new ArrayList<>();
    for (String name : claims) {
      PersistentVolumeClaim claim = retry.call(() -> client.persistentVolumeClaims().inNamespace(namespace).withName(name).get());
      String volumeName = claim == null || claim.getStatus() == null || !"Bound".equals(claim.getStatus().getPhase())
          ? null : claim.getSpec().getVolumeName();
      PersistentVolume volume = volumeName == null ? null
          : retry.call(() -> client.persistentVolumes().withName(volumeName).get());
      if (volume == null || volume.getSpec().getClaimRef() == null
          || !namespace.equals(volume.getSpec().getClaimRef().getNamespace())
          || !name.equals(volume.getSpec().getClaimRef().getName())
          || !claim.getMetadata().getUid().equals(volume.getSpec().getClaimRef().getUid())) {
        volumes.add(new Volume(name, "", "", false));
        continue;
      }
      String before = volume.getSpec().getPersistentVolumeReclaimPolicy();
      if (policy.equals(before)) {
        volumes.add(new Volume(name, volumeName, before, false));
        continue;
      }
      retry.run(() -> client.persistentVolumes().withName(volumeName).patch(PatchContext.of(PatchType.JSON_MERGE),
          "{\"spec\":{\"persistentVolumeReclaimPolicy\":\"" + policy + "\"}}"));
      LOG.info("set the reclaim policy of volume {} (claim {} in {}) from {} to {}", volumeName, name, namespace, before,
          policy);
      volumes.add(new Volume(name, volumeName, policy, true));
    }
    return volumes;
  }

  public boolean namespaceExists(String namespace) {
    return retry.call(() -> client.namespaces().withName(namespace).get()) != null;
  }
}
