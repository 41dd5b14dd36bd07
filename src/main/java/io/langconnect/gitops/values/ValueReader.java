package io.langconnect.gitops.values;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.commons.text.similarity.LevenshteinDistance;

/**
 * Typed, strict access to a layered values tree. Every accessor records the key it reads, so that
 * afterwards {@link #reportUnknownKeys()} can name each key nobody asked for, with the closest known key.
 * Accessors never throw: a bad value becomes a {@link Problem} and the default is used, so one pass
 * finds every problem of a file.
 */
final class ValueReader {

  private static final LevenshteinDistance DISTANCE = LevenshteinDistance.getDefaultInstance();

  private final YamlNode.Mapping root;
  private final Source fallback;
  private final List<Problem> problems = new ArrayList<>();
  private final Set<String> known = new HashSet<>();
  /** Keys whose children are free-form (maps of names, Kubernetes objects). */
  private final Set<String> open = new HashSet<>();
  /** Keys of the reference chart that this stack accepts and does not use, with the reason. */
  private final Map<String, String> ignored = new LinkedHashMap<>();
  /** Parents already reported as "not a mapping", so a bad parent is named once, not once per child. */
  private final Set<String> badParents = new HashSet<>();

  ValueReader(YamlNode.Mapping root, Source fallback) {
    this.root = root;
    this.fallback = fallback;
  }

  Source fallback() {
    return fallback;
  }

  List<Problem> problems() {
    return problems;
  }

  void error(YamlNode at, String path, String message) {
    problems.add(Problem.error(at == null ? fallback : at.source(), path, message));
  }

  void warning(YamlNode at, String path, String message) {
    problems.add(Problem.warning(at == null ? fallback : at.source(), path, message));
  }

  /** The node at a dotted path, if present; registers the path (and its parents) as known. */
  Optional<YamlNode> find(String path) {
    String[] parts = path.split("\\.");
    for (int i = 1; i <= parts.length; i++) {
      known.add(String.join(".", Arrays.copyOfRange(parts, 0, i)));
    }
    YamlNode current = root;
    String parent = "";
    StringBuilder walked = new StringBuilder();
    for (String part : parts) {
      if (walked.length() > 0) walked.append('.');
      walked.append(part);
      if (!(current instanceof YamlNode.Mapping mapping)) {
        boolean isNull = current instanceof YamlNode.Scalar s && s.isNull();
        if (!isNull && badParents.add(parent)) {
          error(current, parent, current.describe() + " is not a mapping; expected keys under " + lastPart(parent) + ":");
        }
        return Optional.empty();
      }
      parent = walked.toString();
      current = mapping.entries().get(part);
      if (current == null) return Optional.empty();
    }
    return Optional.of(current);
  }

  /** The nearest node that exists on the way to {@code path}: where to point when a required key is missing. */
  YamlNode nearest(String path) {
    YamlNode current = root;
    for (String part : path.split("\\.")) {
      if (!(current instanceof YamlNode.Mapping mapping) || !mapping.entries().containsKey(part)) break;
      current = mapping.entries().get(part);
    }
    return current == root ? null : current;
  }

  boolean isSet(String path) {
    return find(path).filter(n -> !(n instanceof YamlNode.Scalar s && s.isNull())).isPresent();
  }

  Optional<String> optionalString(String path) {
    return find(path).flatMap(node -> {
      if (node instanceof YamlNode.Scalar s && s.isNull()) return Optional.empty();
      if (node instanceof YamlNode.Scalar s && s.value() instanceof String text) return Optional.of(text);
      error(node, path, node.describe() + " is not text; expected a string" + quoteHint(node));
      return Optional.empty();
    });
  }

  String string(String path, String defaultValue) {
    return optionalString(path).orElse(defaultValue);
  }

  /** Text where YAML may have typed a plain number, as in image tags ({@code tag: 16}) or quantities ({@code cpu: 1}). */
  Optional<String> optionalText(String path) {
    return find(path).flatMap(node -> {
      if (node instanceof YamlNode.Scalar s && s.isNull()) return Optional.empty();
      if (node instanceof YamlNode.Scalar s && (s.value() instanceof String || s.value() instanceof Number)) {
        return Optional.of(s.text());
      }
      error(node, path, node.describe() + " is not text; expected a string");
      return Optional.empty();
    });
  }

  boolean bool(String path, boolean defaultValue) {
    return find(path).map(node -> {
      if (node instanceof YamlNode.Scalar s && s.isNull()) return defaultValue;
      if (node instanceof YamlNode.Scalar s && s.value() instanceof Boolean b) return b;
      error(node, path, node.describe() + " is not a boolean; expected true or false");
      return defaultValue;
    }).orElse(defaultValue);
  }

  Optional<Integer> optionalInteger(String path, int min, int max) {
    return find(path).flatMap(node -> {
      if (node instanceof YamlNode.Scalar s && s.isNull()) return Optional.empty();
      if (node instanceof YamlNode.Scalar s && s.value() instanceof Long n) {
        if (n >= min && n <= max) return Optional.of(n.intValue());
        error(node, path, s.shown() + " is out of range; expected a whole number from " + min + " to " + max);
        return Optional.empty();
      }
      error(node, path, node.describe() + " is not a whole number; expected a whole number from " + min + " to " + max);
      return Optional.empty();
    });
  }

  int integer(String path, int defaultValue, int min, int max) {
    return optionalInteger(path, min, max).orElse(defaultValue);
  }

  /** A mapping of names to strings (labels, annotations, node selectors); its keys are the user's own. */
  Map<String, String> stringMap(String path) {
    open.add(path);
    Map<String, String> result = new LinkedHashMap<>();
    mapping(path).ifPresent(mapping -> mapping.entries().forEach((key, value) -> {
      String childPath = path + "." + key;
      if (value instanceof YamlNode.Scalar s && s.value() instanceof String text) {
        result.put(key, text);
      } else {
        error(value, childPath, value.describe() + " is not text; expected a string" + quoteHint(value));
      }
    }));
    return result;
  }

  Optional<YamlNode.Mapping> mapping(String path) {
    return find(path).flatMap(node -> {
      if (node instanceof YamlNode.Scalar s && s.isNull()) return Optional.empty();
      if (node instanceof YamlNode.Mapping m) return Optional.of(m);
      error(node, path, node.describe() + " is not a mapping; expected keys under " + lastPart(path) + ":");
      return Optional.empty();
    });
  }

  Optional<YamlNode.Sequence> sequence(String path) {
    return find(path).flatMap(node -> {
      if (node instanceof YamlNode.Scalar s && s.isNull()) return Optional.empty();
      if (node instanceof YamlNode.Sequence seq) return Optional.of(seq);
      error(node, path, node.describe() + " is not a list; expected a YAML list (- item)");
      return Optional.empty();
    });
  }

  /** A subtree the user writes in Kubernetes' own shape (affinity, tolerations, env); its keys are not ours to check. */
  Optional<YamlNode> freeForm(String path) {
    open.add(path);
    return find(path).filter(node -> !(node instanceof YamlNode.Scalar s && s.isNull()));
  }

  /** A value checked by {@code check}, which returns an expectation when the value is wrong, or null when it is right. */
  <T> Optional<T> checked(String path, Optional<T> value, Function<T, String> check) {
    if (value.isEmpty()) return value;
    String expected = check.apply(value.get());
    if (expected == null) return value;
    error(find(path).orElse(null), path, "\"" + value.get() + "\" is not valid; expected " + expected);
    return Optional.empty();
  }

  /** Declares a reference-chart key that this stack accepts but does not use; it is reported as a warning. */
  void ignore(String path, String reason) {
    open.add(path);
    find(path).ifPresent(node -> ignored.put(path, reason));
  }

  /** Reports every key nobody read, with the closest known key, and a warning for each ignored one. */
  void reportUnknownKeys() {
    ignored.forEach((path, reason) -> warning(find(path).orElse(null), path, reason));
    walk(root, "");
  }

  private void walk(YamlNode.Mapping mapping, String prefix) {
    mapping.entries().forEach((key, value) -> {
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      if (!known.contains(path)) {
        error(value, path, "unknown key" + suggestion(path));
      } else if (!open.contains(path) && value instanceof YamlNode.Mapping child) {
        walk(child, path);
      }
    });
  }

  private String suggestion(String path) {
    String leaf = lastPart(path);
    return known.stream()
        .filter(candidate -> !candidate.equals(path))
        .map(candidate -> Map.entry(candidate, score(path, leaf, candidate)))
        .filter(entry -> entry.getValue() >= 0)
        .min(Comparator.<Map.Entry<String, Integer>>comparingInt(Map.Entry::getValue).thenComparing(Map.Entry::getKey))
        .map(entry -> "; did you mean " + entry.getKey() + "?")
        .orElse("; expected one of the keys listed in the README");
  }

  /** Lower is closer; -1 when the candidate is too far to be a useful suggestion. */
  private static int score(String path, String leaf, String candidate) {
    int whole = DISTANCE.apply(path.toLowerCase(), candidate.toLowerCase());
    if (whole <= Math.max(2, path.length() / 4)) return whole;
    String candidateLeaf = lastPart(candidate);
    // Same key name elsewhere: prefer the one under the same top-level section (postgres.size -> postgres.persistence.size).
    boolean sameSection = candidate.split("\\.")[0].equals(path.split("\\.")[0]);
    if (candidateLeaf.equalsIgnoreCase(leaf) && leaf.length() > 2) return (sameSection ? 50 : 100) + whole;
    return -1;
  }

  private static String lastPart(String path) {
    return path.substring(path.lastIndexOf('.') + 1);
  }

  private static String quoteHint(YamlNode node) {
    return node instanceof YamlNode.Scalar s && !s.isNull() && !s.encrypted() ? " (quote it: \"" + s.text() + "\")" : "";
  }

  /** The plain Java data of a subtree (maps, lists, strings, numbers, booleans), nulls left out. */
  static Object plain(YamlNode node) {
    if (node instanceof YamlNode.Mapping m) {
      Map<String, Object> result = new LinkedHashMap<>();
      m.entries().forEach((k, v) -> {
        Object value = plain(v);
        if (value != null) result.put(k, value);
      });
      return result;
    }
    if (node instanceof YamlNode.Sequence seq) {
      List<Object> result = new ArrayList<>();
      seq.items().forEach(item -> {
        Object value = plain(item);
        if (value != null) result.add(value);
      });
      return result;
    }
    return ((YamlNode.Scalar) node).value();
  }
}
