package io.langconnect.gitops.values;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Helm's layering of values files: mappings merge deeply, the later file wins, lists and scalars
 * replace, and an explicit {@code null} in the later file removes the key.
 */
public final class Layering {

  private Layering() {}

  public static YamlNode.Mapping merge(YamlNode.Mapping base, YamlNode.Mapping override) {
    Map<String, YamlNode> merged = new LinkedHashMap<>(base.entries());
    override.entries().forEach((key, value) -> {
      YamlNode existing = merged.get(key);
      if (value instanceof YamlNode.Scalar scalar && scalar.isNull()) {
        merged.remove(key);
      } else if (existing instanceof YamlNode.Mapping baseMap && value instanceof YamlNode.Mapping overrideMap) {
        merged.put(key, merge(baseMap, overrideMap));
      } else {
        merged.put(key, value);
      }
    });
    return new YamlNode.Mapping(merged, override.source());
  }
}
