package io.langconnect.gitops.values;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed YAML value that remembers the file and line it came from, so that a problem found after
 * layering several files still points at the line the user wrote.
 */
public sealed interface YamlNode permits YamlNode.Scalar, YamlNode.Mapping, YamlNode.Sequence {

  Source source();

  /** What a user would call this kind of value in an error message. */
  String describe();

  /**
   * A scalar with its YAML 1.2 core-schema type: {@code value} is a String, Boolean, Long, Double or
   * null; {@code text} is what the file said, for messages. An {@code encrypted} one was decrypted from a file sops
   * encrypted: messages never show it.
   */
  record Scalar(Object value, String text, Source source, boolean encrypted) implements YamlNode {
    public Scalar(Object value, String text, Source source) {
      this(value, text, source, false);
    }

    public boolean isNull() {
      return value == null;
    }

    /** What messages may quote of it. */
    public String shown() {
      return encrypted ? "(encrypted)" : text;
    }

    @Override
    public String describe() {
      if (value == null) return "null";
      if (encrypted) return "an encrypted value";
      if (value instanceof String) return "the string \"" + text + "\"";
      if (value instanceof Boolean) return "the boolean " + text;
      return "the number " + text;
    }
  }

  record Mapping(Map<String, YamlNode> entries, Source source) implements YamlNode {
    public Mapping {
      entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    @Override
    public String describe() {
      return "a mapping";
    }
  }

  record Sequence(List<YamlNode> items, Source source) implements YamlNode {
    public Sequence {
      items = List.copyOf(items);
    }

    @Override
    public String describe() {
      return "a list";
    }
  }
}
