package io.langconnect.gitops.cluster;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.apply.LiveState;
import io.langconnect.gitops.apply.NamespaceAccess;
import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.apply.WorkloadCache;
import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.config.ControllerConfig.ClusterEndpoint;
import io.langconnect.gitops.sync.EventRecorder;
import io.langconnect.gitops.values.NamespacePolicy;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The clusters environments are applied to, by name: the controller's own ({@value NamespacePolicy#IN_CLUSTER}) and
 * those the config's {@code clusters:} names. A remote cluster is connected on first use; one that cannot be (its
 * kubeconfig Secret missing, a malformed kubeconfig) fails only the environments placed on it, and is tried again at
 * their next sync.
 */
public final class Clusters implements AutoCloseable {

  /** What a sync works with on one cluster. */
  public record Target(String name, KubernetesClient client, Applier applier, LiveState live, BackupService backups,
                       EventRecorder events, Optional<WorkloadCache> cache) {

    public static Target of(String name, KubernetesClient client, Retry retry, Optional<WorkloadCache> cache,
                            String identity) {
      NamespaceAccess access = new NamespaceAccess(client);
      return new Target(name, client, new Applier(client, retry, access, cache), new LiveState(client, retry, cache, access),
          new BackupService(client), new EventRecorder(client, identity), cache);
    }

    public boolean isHome() {
      return name.equals(NamespacePolicy.IN_CLUSTER);
    }

    /** How messages name where something happened: nothing for the controller's own cluster. */
    public String where() {
      return isHome() ? "" : "cluster " + name + ": ";
    }
  }

  /** A cluster an environment names that cannot be used now; the message names it and says why. */
  public static final class UnavailableException extends RuntimeException {
    public UnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final Target home;
  private final Map<String, ClusterEndpoint> endpoints;
  private final Function<String, Target> connect;
  private final Predicate<String> shard;
  private final Map<String, Target> connected = new ConcurrentHashMap<>();
  private final Map<String, String> failures = new ConcurrentHashMap<>();
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Clusters.class);

  /**
   * {@code connect} makes the target of a configured remote cluster (it throws when it cannot); the composition root
   * decides what a target carries (a watch cache in the controller, none in a one-shot command). {@code shard} says
   * which clusters' environments this controller syncs; the others' are left to their own controller.
   */
  public Clusters(Target home, Map<String, ClusterEndpoint> endpoints, Function<String, Target> connect,
                  Predicate<String> shard) {
    this.home = home;
    this.endpoints = Map.copyOf(endpoints);
    this.connect = connect;
    this.shard = shard;
  }

  public Clusters(Target home, Map<String, ClusterEndpoint> endpoints, Function<String, Target> connect) {
    this(home, endpoints, connect, cluster -> true);
  }

  /** Only the controller's own cluster. */
  public static Clusters single(Target home) {
    return new Clusters(home, Map.of(), name -> {
      throw new IllegalStateException("no cluster " + name);
    });
  }

  /** Whether environments on {@code cluster} are this controller's to sync and prune (its shard). */
  public boolean syncs(String cluster) {
    return shard.test(cluster);
  }

  public Target home() {
    return home;
  }

  /** Every cluster name environments may use. */
  public Set<String> names() {
    Set<String> names = new TreeSet<>(endpoints.keySet());
    names.add(NamespacePolicy.IN_CLUSTER);
    return names;
  }

  public boolean knows(String name) {
    return name.equals(NamespacePolicy.IN_CLUSTER) || endpoints.containsKey(name);
  }

  /** The target of {@code name}, connecting it on first use. */
  public Target get(String name) {
    if (name.equals(NamespacePolicy.IN_CLUSTER)) return home;
    if (!endpoints.containsKey(name)) {
      throw new UnavailableException("cluster " + name + " is not in the controller config (clusters: "
          + String.join(", ", names()) + ")", null);
    }
    try {
      return connected.computeIfAbsent(name, connect);
    } catch (UnavailableException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new UnavailableException("cluster " + name + ": cannot connect: " + e.getMessage(), e);
    }
  }

  /**
   * Connects every configured cluster not connected yet; one that cannot be is logged (when its reason changes)
   * and tried again at the next call.
   */
  public void connectAll() {
    for (String name : endpoints.keySet()) {
      if (connected.containsKey(name)) continue;
      try {
        get(name);
        failures.remove(name);
      } catch (UnavailableException e) {
        if (!e.getMessage().equals(failures.put(name, e.getMessage()))) LOG.warn("{}; trying again", e.getMessage());
      }
    }
  }

  /** The targets connected so far, the controller's own first. */
  public List<Target> connected() {
    Collection<Target> remote = connected.values();
    return java.util.stream.Stream.concat(java.util.stream.Stream.of(home), remote.stream()).toList();
  }

  /** Closes the remote clients (the controller's own belongs to whoever made it). */
  @Override
  public void close() {
    connected.values().forEach(target -> {
      target.cache().ifPresent(WorkloadCache::close);
      target.client().close();
    });
    connected.clear();
  }
}
