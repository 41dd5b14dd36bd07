package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.utils.YamlDumpSettingsBuilder;
import tools.jackson.databind.ObjectMapper;
import java.util.List;

/** Objects as multi-document YAML, the way {@code helm template} prints them. */
public final class YamlDocuments {

  // Quotes only where YAML needs them (as kubectl and helm print), so "5432" stays a string and names stay bare.
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization(
      new ObjectMapper(), true, new YamlDumpSettingsBuilder().setMinimizeQuotes(true).build());

  private YamlDocuments() {}

  /** Any tree (maps, lists, model objects) as YAML, quoted the same way. */
  public static String yaml(Object tree) {
    return SERIALIZATION.asYaml(tree);
  }

  public static String write(List<? extends HasMetadata> objects) {
    StringBuilder out = new StringBuilder();
    for (HasMetadata object : objects) {
      String yaml = SERIALIZATION.asYaml(object);
      if (!yaml.startsWith("---")) out.append("---\n");
      out.append(yaml);
      if (!yaml.endsWith("\n")) out.append('\n');
    }
    return out.toString();
  }
}
