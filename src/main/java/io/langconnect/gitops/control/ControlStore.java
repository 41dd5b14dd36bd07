package io.langconnect.gitops.control;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.langconnect.gitops.apply.Namespaces;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.apply.StateCache;
import io.langconnect.gitops.render.Labels;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Operators' controls, one ConfigMap per environment ({@code control-<env>}) in the state namespace. Each kind of
 * control is written by its own server-side-apply field manager, so suspending never undoes a prune confirmation
 * and resuming removes exactly the suspension's keys. The CLI writes here directly (it works while the controller
 * is down); the leader watches and acts at once.
 */
public final class ControlStore {

  static final String CONTROL_LABEL = "langconnect-gitops.io/control";
  private static final String PREFIX = "control-";
  private static final String SUSPEND = "langconnect-gitops-suspend";
  private static final String PRUNE = "langconnect-gitops-prune";
  private static final String NEW_DATABASE = "langconnect-gitops-new-database";
  private static final String SKIP_BACKUP = "langconnect-gitops-skip-backup";
  private static final String RECOVERED = "langconnect-gitops-recovered-cluster";
  /** One field manager per cluster, so confirming the prune on one cluster never takes back another's. */
  private static final String PRUNE_LEFT = "langconnect-gitops-prune-left-";
  private static final String PRUNE_LEFT_KEY = "pruneLeftConfirmed.";

  private final KubernetesClient client;
  private final String namespace;
  private final Retry retry;
  private final Optional<StateCache> cache;
  private volatile boolean namespaceMade;
  private volatile ReopeningWatch current;
  /** Each control as the watch last delivered it: what an event changed is told from it, in the watch's order. */
  private final Map<String, Controls> watched = new java.util.concurrent.ConcurrentHashMap<>();

  /** Every read and write is retried as applies are (conflicts, throttling, 5xx, cut connections). */
  public ControlStore(KubernetesClient client, String namespace, Retry retry) {
    this(client, namespace, retry, Optional.empty());
  }

  /** Controls are read from {@code cache} when it can answer: a sync then reads them without a request. */
  public ControlStore(KubernetesClient client, String namespace, Retry retry, Optional<StateCache> cache) {
    this.client = client;
    this.namespace = namespace;
    this.retry = retry;
    this.cache = cache;
  }

  public Controls read(String environment) {
    Optional<Optional<ConfigMap>> known = cache.flatMap(c -> c.get(PREFIX + environment));
    ConfigMap cm = known.isPresent() ? known.get().orElse(null)
        : retry.call(() -> client.configMaps().inNamespace(namespace).withName(PREFIX + environment).get());
    return cm == null ? Controls.NONE : decode(cm);
  }

  public void suspend(String environment, String by, String reason) {
    write(environment, SUSPEND, Map.of("suspendedBy", by, "suspendedReason", reason,
        "suspendedAt", Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString()));
  }

  public void resume(String environment) {
    write(environment, SUSPEND, Map.of());
  }

  /**
   * Lets the held prune of a removed environment go ahead, for the inventory as it is now ({@code inventoryRevision}):
   * a confirmation never carries over to a later removal of the same environment.
   */
  public void confirmPrune(String environment, String inventoryRevision) {
    write(environment, PRUNE, Map.of("pruneConfirmed", inventoryRevision));
  }

  /** The environment's values file is back: a prune confirmed for its removal no longer applies. */
  public void clearPrune(String environment) {
    write(environment, PRUNE, Map.of());
  }

  /**
   * Lets the controller prune what a move left running on {@code cluster} (the old database with its data), for that
   * record as it is now ({@code inventoryRevision}).
   */
  public void confirmPruneLeft(String environment, String cluster, String inventoryRevision) {
    write(environment, PRUNE_LEFT + cluster, Map.of(PRUNE_LEFT_KEY + cluster, inventoryRevision));
  }

  /** What the move left on {@code cluster} is pruned (or the environment is back there): its confirmation goes. */
  public void clearPruneLeft(String environment, String cluster) {
    write(environment, PRUNE_LEFT + cluster, Map.of());
  }

  /** The next sync applies a held database change without the backup before it (the database is not running). */
  public void skipBackupOnce(String environment) {
    write(environment, SKIP_BACKUP, Map.of("skipBackupOnce", "true"));
  }

  public void clearSkipBackup(String environment) {
    write(environment, SKIP_BACKUP, Map.of());
  }

  /** Lets an environment whose release or namespace changed start an empty database at {@code target}. */
  public void confirmNewDatabase(String environment, String target) {
    write(environment, NEW_DATABASE, Map.of("newDatabaseConfirmedFor", target));
  }

  /** A new-database confirmation is used once: the sync it let through clears it, so a later loss is held again. */
  public void clearNewDatabase(String environment) {
    write(environment, NEW_DATABASE, Map.of());
  }

  /** Makes {@code cluster}, recovered to a point in time, the database of the environment at {@code target}. */
  public void useRecoveredCluster(String environment, String target, String cluster) {
    write(environment, RECOVERED, Map.of("recoveredClusterFor", target, "recoveredCluster", cluster));
  }

  /** The environment is gone: its controls go with it. */
  public void delete(String environment) {
    String last = cache.flatMap(c -> c.get(PREFIX + environment)).flatMap(known -> known)
        .map(cm -> cm.getMetadata().getResourceVersion()).orElse(null);
    retry.run(() -> client.configMaps().inNamespace(namespace).withName(PREFIX + environment).delete());
    if (last != null) cache.get().deleted(PREFIX + environment, last);
  }

  private void write(String environment, String manager, Map<String, String> data) {
    if (!namespaceMade) {
      retry.run(() -> Namespaces.ensure(client, namespace, Map.of()));
      namespaceMade = true;
    }
    ConfigMap cm = new ConfigMapBuilder().withNewMetadata().withName(PREFIX + environment).withNamespace(namespace)
        .addToLabels(CONTROL_LABEL, "true").addToLabels(Labels.ENVIRONMENT, environment)
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGER).endMetadata()
        .withData(new LinkedHashMap<>(data)).build();
    try {
      ConfigMap written = retry.call(() -> client.resource(cm).fieldManager(manager).forceConflicts().serverSideApply());
      cache.ifPresent(c -> c.saw(written));
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() == 404) namespaceMade = false; // the state namespace was deleted since: made again next time
      throw e;
    }
  }

  static Controls decode(ConfigMap cm) {
    Map<String, String> data = cm.getData() == null ? Map.of() : cm.getData();
    Optional<Controls.Suspension> suspension = Optional.ofNullable(data.get("suspendedBy")).map(by ->
        new Controls.Suspension(by, data.getOrDefault("suspendedReason", ""), instant(data.get("suspendedAt"))));
    Map<String, String> leftPrunes = new LinkedHashMap<>();
    data.forEach((key, value) -> {
      if (key.startsWith(PRUNE_LEFT_KEY)) leftPrunes.put(key.substring(PRUNE_LEFT_KEY.length()), value);
    });
    return new Controls(suspension, Optional.ofNullable(data.get("pruneConfirmed")).filter(r -> !r.isEmpty()),
        Optional.ofNullable(data.get("newDatabaseConfirmedFor")), "true".equals(data.get("skipBackupOnce")),
        Map.copyOf(leftPrunes), Optional.ofNullable(data.get("recoveredCluster")).map(cluster ->
            new Controls.RecoveredCluster(data.getOrDefault("recoveredClusterFor", ""), cluster)));
  }

  private static Instant instant(String text) {
    try {
      return text == null ? Instant.EPOCH : Instant.parse(text);
    } catch (DateTimeParseException e) {
      return Instant.EPOCH;
    }
  }

  /**
   * Leader side: tells {@code changed} the environment of every control written after this call, until
   * {@link #stopWatching()}; a closed watch is opened again. Blocking.
   */
  public void startWatching(Consumer<String> changed, Consumer<Runnable> later) {
    ReopeningWatch watch = new ReopeningWatch("controls",
        client.configMaps().inNamespace(namespace).withLabel(CONTROL_LABEL, "true"),
        (action, cm) -> {
          String environment = cm.getMetadata().getLabels() == null ? null : cm.getMetadata().getLabels().get(Labels.ENVIRONMENT);
          // Known to the cache first, so that the sync this starts reads the control as written.
          if (action == Watcher.Action.DELETED) {
            cache.ifPresent(c -> c.deleted(cm.getMetadata().getName(), cm.getMetadata().getResourceVersion()));
          } else {
            cache.ifPresent(c -> c.saw(cm));
          }
          // Only news starts a sync: a confirmation the sync itself cleared once it used it is none.
          Controls now = action == Watcher.Action.DELETED ? Controls.NONE : decode(cm);
          Controls before = Optional.ofNullable(action == Watcher.Action.DELETED ? watched.remove(cm.getMetadata().getName())
              : watched.put(cm.getMetadata().getName(), now)).orElse(Controls.NONE);
          if (environment != null && action != Watcher.Action.DELETED && now.isNewsSince(before)) {
            changed.accept(environment);
          }
        }, later);
    current = watch;
    watch.start();
  }

  public void stopWatching() {
    ReopeningWatch watch = current;
    current = null;
    if (watch != null) watch.stop();
  }
}
