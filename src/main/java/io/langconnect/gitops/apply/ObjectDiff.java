package io.langconnect.gitops.apply;

import com.github.difflib.DiffUtils;
import com.github.difflib.UnifiedDiffUtils;
import com.github.difflib.patch.Patch;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.render.YamlDocuments;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A readable unified diff between a live object and what an apply would make of it, with the fields the
 * API server keeps for itself left out and Secret values replaced by a short hash (a change still shows,
 * the value never does). Pure.
 */
public final class ObjectDiff {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final List<String> SERVER_FIELDS =
      List.of("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink");

  private ObjectDiff() {}

  /** The diff lines, empty when the two are the same. {@code live} may be null: then everything is new. */
  public static List<String> between(HasMetadata live, HasMetadata desired) {
    String name = desired.getKind() + "/" + desired.getMetadata().getName();
    List<String> before = live == null ? List.of() : lines(live);
    List<String> after = lines(desired);
    Patch<String> patch = DiffUtils.diff(before, after);
    if (patch.getDeltas().isEmpty()) return List.of();
    return UnifiedDiffUtils.generateUnifiedDiff(live == null ? "/dev/null" : "live/" + name, "desired/" + name,
        before, patch, 3);
  }

  @SuppressWarnings("unchecked")
  private static List<String> lines(HasMetadata object) {
    Map<String, Object> tree = SERIALIZATION.convertValue(object, Map.class);
    tree.remove("status");
    Map<String, Object> metadata = (Map<String, Object>) tree.get("metadata");
    if (metadata != null) {
      SERVER_FIELDS.forEach(metadata::remove);
      Object annotations = metadata.get("annotations");
      if (annotations instanceof Map<?, ?> map) {
        map.remove(Labels.REVISION_ANNOTATION);
        map.remove("deployment.kubernetes.io/revision");
        if (map.isEmpty()) metadata.remove("annotations");
      }
    }
    if ("Secret".equals(object.getKind()) && tree.get("data") instanceof Map<?, ?> data) {
      ((Map<String, Object>) data).replaceAll((key, value) -> hidden(String.valueOf(value)));
    }
    return Arrays.asList(YamlDocuments.yaml(tree).split("\n"));
  }

  /** A Secret's value as diff and render show it: a short hash, so a change shows and the value does not. */
  public static String hidden(String value) {
    try {
      return "(hidden, sha256 " + HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)), 0, 4) + ")";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
