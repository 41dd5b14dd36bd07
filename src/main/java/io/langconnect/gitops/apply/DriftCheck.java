package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Whether a live object still holds what we applied: every field of the desired object must be present
 * in the live one with the same value. Fields the API server adds (defaults, status, metadata) are
 * ignored. Quantities compare by amount, as the API server rewrites {@code 1000m} as {@code 1}.
 * Pure: works on JSON trees.
 */
public final class DriftCheck {

  private DriftCheck() {}

  /** The paths where {@code live} differs from {@code desired}; empty when nothing drifted. */
  public static List<String> differences(JsonNode desired, JsonNode live) {
    List<String> out = new ArrayList<>();
    compare(desired, live, "", out);
    return out;
  }

  private static void compare(JsonNode desired, JsonNode live, String path, List<String> out) {
    if (desired == null || desired.isNull()) return;
    if (live == null || live.isNull() || live.isMissingNode()) {
      if (!isEmptyContainer(desired)) out.add(path.isEmpty() ? "(object)" : path);
      return;
    }
    if (desired.isObject()) {
      if (!live.isObject()) {
        out.add(path);
        return;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = desired.properties().iterator(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        compare(field.getValue(), live.get(field.getKey()), path + "." + field.getKey(), out);
      }
    } else if (desired.isArray()) {
      if (!live.isArray() || live.size() != desired.size()) {
        out.add(path);
        return;
      }
      for (int i = 0; i < desired.size(); i++) compare(desired.get(i), live.get(i), path + "[" + i + "]", out);
    } else if (!sameScalar(desired, live, path)) {
      out.add(path);
    }
  }

  private static boolean isEmptyContainer(JsonNode node) {
    return (node.isObject() || node.isArray()) && node.isEmpty();
  }

  private static boolean sameScalar(JsonNode desired, JsonNode live, String path) {
    if (desired.equals(live)) return true;
    if (desired.isNumber() && live.isNumber()) return desired.decimalValue().compareTo(live.decimalValue()) == 0;
    if (path.contains(".resources.") && desired.isString() && live.isString()) {
      try {
        return Quantity.getAmountInBytes(Quantity.parse(desired.asString()))
            .compareTo(Quantity.getAmountInBytes(Quantity.parse(live.asString()))) == 0;
      } catch (RuntimeException notQuantities) {
        return false;
      }
    }
    return false;
  }
}
