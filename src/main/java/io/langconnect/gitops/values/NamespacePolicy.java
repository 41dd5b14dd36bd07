package io.langconnect.gitops.values;

import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Where environments may live. Glob patterns ({@code *}: any characters, {@code ?}: one) are read in order and
 * the last one that matches decides; a leading {@code !} refuses. The controller's own namespace (its inventories
 * and Lease) is always refused. Pure.
 */
public record NamespacePolicy(List<String> patterns, String controllerNamespace) {

  /** Every namespace except Kubernetes' own and {@code default}. */
  public static final List<String> DEFAULT_PATTERNS = List.of("*", "!kube-*", "!default");
  public static final String DEFAULT_CONTROLLER_NAMESPACE = "langconnect-gitops";

  private static final Pattern VALID = Pattern.compile("!?[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?");

  public NamespacePolicy {
    patterns = List.copyOf(patterns);
    for (int i = 0; i < patterns.size(); i++) {
      String pattern = patterns.get(i);
      if (pattern == null || !VALID.matcher(pattern).matches()) {
        throw new IllegalArgumentException("kubernetes.allowedNamespaces[" + i + "]: \"" + pattern + "\" is not a"
            + " namespace pattern; expected lowercase letters, digits, '-', '*' and '?', optionally after '!'");
      }
    }
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
