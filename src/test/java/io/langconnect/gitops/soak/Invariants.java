package io.langconnect.gitops.soak;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.langconnect.gitops.render.Labels;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What must hold during the whole soak, checked while it runs (every second, and from a watch of the database pods)
 * and once at the end; each check remembers when it first broke and what it saw then.
 */
final class Invariants implements AutoCloseable {

  /** One invariant: held, or the first time it broke (seconds into the run) and what was seen then. */
  static final class Check {
    final String name;
    private Duration firstBroken;
    private String detail = "";
    private int breaks;

    Check(String name) {
      this.name = name;
    }

    synchronized void broke(Duration at, String what) {
      if (breaks++ == 0) {
        firstBroken = at;
        detail = what;
        System.out.printf("[soak %4ds] BROKEN %s: %s%n", at.toSeconds(), name, what);
      }
    }

    synchronized boolean held() {
      return breaks == 0;
    }

    synchronized String outcome() {
      return breaks == 0 ? "held" : "BROKEN at %d s (%d times): %s".formatted(firstBroken.toSeconds(), breaks, detail);
    }
  }

  final Check claims = new Check("no claim or volume of a persistent environment deleted");
  final Check rows = new Check("rows written to prod before the run all present after it");
  final Check bystanders = new Check("objects without our labels untouched");
  final Check onePostmaster = new Check("at most one database pod per environment at any moment");
  final Check convergence = new Check("every environment at its latest values and Ready within the bound after each fault");
  final Check metrics = new Check("/metrics tells the truth at the end");
  final Check heap = new Check("the controller's heap after GC does not grow");
  final Check errors = new Check("no ERROR log line but an injected fault's report");
  final Check restore = new Check("a restore brings back what the backup held");

  private final SoakStack stack;
  private final Instant started;
  private final Map<String, String> claimsSeen = new ConcurrentHashMap<>(); // uid -> what it is
  private final Map<String, String> bystanderVersions = new LinkedHashMap<>();
  private final Map<String, Set<String>> databasePods = new HashMap<>();
  private Watch podWatch;
  private volatile boolean closed;
  private final Thread poller;

  Invariants(SoakStack stack, Instant started) {
    this.stack = stack;
    this.started = started;
    this.poller = new Thread(this::pollEverySecond, "soak-invariants");
    poller.setDaemon(true);
  }

  List<Check> all() {
    return List.of(claims, rows, bystanders, onePostmaster, convergence, metrics, heap, errors, restore);
  }

  Duration now() {
    return Duration.between(started, Instant.now());
  }

  // ---------------------------------------------------------------------------------------------------------
  // Bystanders: objects a user made beside ours, without our labels

  /** A namespace of its own and an unlabeled ConfigMap in each environment's namespace, remembered by version. */
  void makeBystanders(String namespace) {
    stack.admin.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName(namespace).endMetadata().build()).create();
    List<HasMetadata> made = new ArrayList<>();
    made.add(stack.admin.configMaps().resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata()
        .withName("team-notes").withNamespace(namespace).endMetadata().addToData("note", "not the controller's").build())
        .create());
    made.add(stack.admin.secrets().resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata()
        .withName("team-token").withNamespace(namespace).endMetadata().addToStringData("token", "bystander").build())
        .create());
    for (SoakEnvironment env : stack.present()) {
      made.add(stack.admin.configMaps().resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata()
          .withName("langconnect-team-notes").withNamespace(env.namespace).endMetadata()
          .addToData("note", "a user's, beside the controller's objects").build()).create());
    }
    synchronized (bystanderVersions) {
      for (HasMetadata object : made) bystanderVersions.put(key(object), version(object));
    }
  }

  private static String key(HasMetadata o) {
    return o.getKind() + " " + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
  }

  private static String version(HasMetadata o) {
    return o.getMetadata().getUid() + "@" + o.getMetadata().getResourceVersion();
  }

  private void checkBystanders() {
    Map<String, String> expected;
    synchronized (bystanderVersions) {
      expected = new LinkedHashMap<>(bystanderVersions);
    }
    for (var entry : expected.entrySet()) {
      String[] parts = entry.getKey().split("[ /]");
      HasMetadata now = parts[0].equals("Secret") ? stack.admin.secrets().inNamespace(parts[1]).withName(parts[2]).get()
          : stack.admin.configMaps().inNamespace(parts[1]).withName(parts[2]).get();
      if (now == null) bystanders.broke(now(), entry.getKey() + " deleted");
      else if (!version(now).equals(entry.getValue())) bystanders.broke(now(), entry.getKey() + " written");
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Claims and volumes of persistent environments

  private void checkClaims() {
    Set<String> namespaces = new HashSet<>();
    for (SoakEnvironment env : stack.environments) if (env.persistent) namespaces.add(env.namespace);
    Map<String, String> live = new HashMap<>();
    for (String ns : namespaces) {
      for (PersistentVolumeClaim claim : stack.admin.persistentVolumeClaims().inNamespace(ns).list().getItems()) {
        String what = "claim " + ns + "/" + claim.getMetadata().getName();
        if (claim.getMetadata().getDeletionTimestamp() != null) claims.broke(now(), what + " being deleted");
        live.put(claim.getMetadata().getUid(), what);
      }
    }
    for (PersistentVolume volume : stack.admin.persistentVolumes().list().getItems()) {
      var ref = volume.getSpec().getClaimRef();
      if (ref == null || !namespaces.contains(ref.getNamespace())) continue;
      String what = "volume " + volume.getMetadata().getName() + " of " + ref.getNamespace() + "/" + ref.getName();
      if (volume.getMetadata().getDeletionTimestamp() != null) claims.broke(now(), what + " being deleted");
      live.put(volume.getMetadata().getUid(), what);
    }
    claimsSeen.forEach((uid, what) -> {
      if (!live.containsKey(uid)) claims.broke(now(), what + " deleted");
    });
    claimsSeen.putAll(live);
  }

  int claimsWatched() {
    return claimsSeen.size();
  }

  // ---------------------------------------------------------------------------------------------------------
  // One postmaster per environment: database pods as `kubectl get pods -w` shows them

  private void watchDatabasePods() {
    // A fresh list after each break of the watch (an API server restart): what was missed while it was down is
    // not counted either way.
    Set<String> namespaces = new HashSet<>();
    for (SoakEnvironment env : stack.environments) namespaces.add(env.namespace);
    synchronized (databasePods) {
      databasePods.clear();
      for (Pod pod : stack.admin.pods().inAnyNamespace().withLabel(Labels.COMPONENT, Labels.POSTGRES).list().getItems()) {
        if (namespaces.contains(pod.getMetadata().getNamespace())) record(Watcher.Action.ADDED, pod);
      }
    }
    podWatch = stack.admin.pods().inAnyNamespace().withLabel(Labels.COMPONENT, Labels.POSTGRES).watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, Pod pod) {
        if (namespaces.contains(pod.getMetadata().getNamespace())) {
          synchronized (databasePods) {
            record(action, pod);
          }
        }
      }

      @Override
      public void onClose(WatcherException cause) {
        if (!closed) reopenLater();
      }
    });
  }

  private void reopenLater() {
    Thread reopen = new Thread(() -> {
      while (!closed) {
        try {
          Thread.sleep(1_000);
          watchDatabasePods();
          return;
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          // the API server is still down: try again
        }
      }
    }, "soak-pod-watch");
    reopen.setDaemon(true);
    reopen.start();
  }

  /** A pod exists from its creation until it is deleted from the API, terminating or not. */
  private void record(Watcher.Action action, Pod pod) {
    Set<String> pods = databasePods.computeIfAbsent(pod.getMetadata().getNamespace(), ns -> new HashSet<>());
    if (action == Watcher.Action.DELETED) pods.remove(pod.getMetadata().getUid());
    else if (action == Watcher.Action.ADDED || action == Watcher.Action.MODIFIED) pods.add(pod.getMetadata().getUid());
    if (pods.size() > 1) {
      onePostmaster.broke(now(), pods.size() + " database pods at once in " + pod.getMetadata().getNamespace());
    }
  }

  // ---------------------------------------------------------------------------------------------------------

  void start() {
    watchDatabasePods();
    poller.start();
  }

  private void pollEverySecond() {
    while (!closed) {
      try {
        checkClaims();
        checkBystanders();
      } catch (RuntimeException e) {
        // the API server is down for a moment: a deletion then is still seen afterwards (the uid is gone)
      }
      try {
        Thread.sleep(1_000);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** The last look, once the faults have stopped: the pollers' checks once more, with nothing down. */
  void finalLook() {
    checkClaims();
    checkBystanders();
  }

  @Override
  public void close() {
    closed = true;
    poller.interrupt();
    if (podWatch != null) podWatch.close();
  }

  /** A JSON log line of the controller at ERROR: its time and message. */
  record LogError(Instant at, String pod, String message) {
    static LogError parse(String pod, String line) {
      try {
        JsonObject json = new JsonObject(line);
        if (!"ERROR".equals(json.getString("level"))) return null;
        Object timestamp = json.getValue("timestamp");
        Instant at = timestamp instanceof Number n ? Instant.ofEpochMilli(n.longValue())
            : Instant.parse(String.valueOf(timestamp));
        return new LogError(at, pod, json.getString("loggerName", "") + ": " + json.getString("formattedMessage", ""));
      } catch (RuntimeException e) {
        return null;
      }
    }
  }
}
