package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.langconnect.gitops.render.Labels;
import java.util.Map;

/**
 * Whether a live object is this controller's, for one environment: it carries our managed-by label and the
 * environment's label. Nothing else is ever overwritten or deleted, whatever an inventory says.
 */
public final class Ownership {

  private Ownership() {}

  public static boolean isOurs(HasMetadata live, String environment) {
    Map<String, String> labels = live.getMetadata().getLabels();
    return labels != null && Labels.MANAGER.equals(labels.get(Labels.MANAGED_BY))
        && environment.equals(labels.get(Labels.ENVIRONMENT));
  }

  /** The labels that decided, for messages: {@code managed-by=helm, environment=(none)}. */
  public static String describe(HasMetadata live) {
    Map<String, String> labels = live.getMetadata().getLabels() == null ? Map.of() : live.getMetadata().getLabels();
    return "managed-by=" + labels.getOrDefault(Labels.MANAGED_BY, "(none)") + ", environment="
        + labels.getOrDefault(Labels.ENVIRONMENT, "(none)");
  }
}
