package io.langconnect.gitops.webhook;

import io.langconnect.gitops.values.ValuesFiles;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Which environments a push changed, from the paths it touched: {@code values-<env>.yaml} in the values
 * folder means that environment; {@code values.yaml} means every environment, and so does a push whose
 * payload did not list its paths. Pure.
 */
public final class AffectedEnvironments {


  private AffectedEnvironments() {}

  /**
   * @param pathPrefix the values folder inside the repository, "" or ending in "/"
   * @return the environments to sync, or empty for "all of them"
   */
  public static Optional<Set<String>> of(Optional<Set<String>> changedPaths, String pathPrefix) {
    if (changedPaths.isEmpty()) return Optional.empty();
    Set<String> environments = new HashSet<>();
    for (String path : changedPaths.get()) {
      if (!path.startsWith(pathPrefix)) continue;
      String name = path.substring(pathPrefix.length());
      if (name.contains("/")) continue;
      if (ValuesFiles.isShared(name)) return Optional.empty();
      ValuesFiles.environmentOf(name).ifPresent(environments::add);
    }
    return Optional.of(environments);
  }
}
