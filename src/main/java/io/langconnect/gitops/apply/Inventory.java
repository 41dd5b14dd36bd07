package io.langconnect.gitops.apply;

import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import io.langconnect.gitops.values.NamespacePolicy;

/**
 * What was applied for one environment, all in one namespace of one cluster: each object with the hash of the content we
 * applied and the revision it was applied at. The next sync prunes what this has and the new render lacks, and
 * skips objects whose content hash is unchanged and whose live state has not drifted.
 */
public record Inventory(String environment, String namespace, String revision, Map<ObjectRef, Entry> objects,
                        boolean production, String cluster) {

  public record Entry(String hash, String revision) {}

  public Inventory {
    TreeMap<ObjectRef, Entry> sorted = new TreeMap<>(ObjectRef.ORDER);
    sorted.putAll(objects);
    objects = Collections.unmodifiableMap(sorted);
  }

  public Inventory(String environment, String namespace, String revision, Map<ObjectRef, Entry> objects,
                   boolean production) {
    this(environment, namespace, revision, objects, production, NamespacePolicy.IN_CLUSTER);
  }

  public Inventory(String environment, String namespace, String revision, Map<ObjectRef, Entry> objects) {
    this(environment, namespace, revision, objects, false);
  }

  public static Inventory empty(String environment) {
    return new Inventory(environment, "", "", Map.of());
  }

  /** Whether the environment was a production one when this was written: its removal then waits for a confirmation. */
  public Inventory withProduction(boolean isProduction) {
    return new Inventory(environment, namespace, revision, objects, isProduction, cluster);
  }

  /** The cluster its objects live on. */
  public Inventory onCluster(String name) {
    return new Inventory(environment, namespace, revision, objects, production, name);
  }

  public Optional<Entry> entry(ObjectRef ref) {
    return Optional.ofNullable(objects.get(ref));
  }
}
