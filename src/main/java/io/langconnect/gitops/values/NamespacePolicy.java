package io.langconnect.gitops.values;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Where environments may live: on which clusters ({@code in-cluster}, the controller's own, and those the config
 * names), in which namespaces. Glob patterns ({@code *}: any characters, {@code ?}: one) are read in order and
 * the last one that matches decides; a leading {@code !} refuses. The controller's own namespace (its inventories
 * and Lease) is always refused. Pure.
 */
public record NamespacePolicy(List<String> patterns, String controllerNamespace, Set<String> clusters) {

  /** Every namespace except Kubernetes' own and {@code default}. */
  public static final List<String> DEFAULT_PATTERNS = List.of("*", "!kube-*", "!default");
  public static final String DEFAULT_CONTROLLER_NAMESPACE = "langconnect-gitops";

  private static final Pattern VALID = Pattern.compile("!?[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?");

  /** The controller's own cluster: an environment without {@code cluster:} lives there. */
  public static final String IN_CLUSTER = "in-cluster";

  public NamespacePolicy {
    patterns = List.copyOf(patterns);
    clusters = new TreeSet<>(clusters);
    clusters.add(IN_CLUSTER);
    clusters = Collections.unmodifiableSet(clusters);
    for (int i = 0; i < patterns.size(); i++) {
      String pattern = patterns.get(i);
      if (pattern == null || !VALID.matcher(pattern).matches()) {
        throw new IllegalArgumentException("kubernetes.allowedNamespaces[" + i + "]: \"" + pattern + "\" is not a"
            + " namespace pattern; expected lowercase letters, digits, '-', '*' and '?', optionally after '!'");
      }
    }
  }

  public NamespacePolicy(List<String> patterns, String controllerNamespace) {
    this(patterns, controllerNamespace, Set.of());
  }

  /** The same namespaces, on the controller's own cluster and {@code names}. */
  public NamespacePolicy onClusters(Collection<String> names) {
    return new NamespacePolicy(patterns, controllerNamespace, Set.copyOf(names));
  }

  public static NamespacePolicy defaults() {
    return new NamespacePolicy(DEFAULT_PATTERNS, DEFAULT_CONTROLLER_NAMESPACE);
  }

  public boolean allows(String namespace) {
    if (namespace.equals(controllerNamespace)) return false;
    boolean allowed = false;
    for (String pattern : patterns) {
      boolean refuse = pattern.startsWith("!");
      if (glob(refuse ? pattern.substring(1) : pattern).matcher(namespace).matches()) allowed = !refuse;
    }
    return allowed;
  }

  /** For messages: the patterns and the namespace that is never allowed. */
  public String describe() {
    return String.join(", ", patterns) + " (never " + controllerNamespace + ", the controller's own)";
  }

  private static Pattern glob(String pattern) {
    return Pattern.compile(pattern.chars().mapToObj(c -> c == '*' ? ".*" : c == '?' ? "." : Pattern.quote(String.valueOf((char) c)))
        .collect(Collectors.joining()));
  }
}
