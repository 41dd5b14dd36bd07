package io.langconnect.gitops.webhook;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which environments a push changed, from the paths it touched: {@code values-<env>.yaml} in the values
 * folder means that environment; {@code values.yaml} means every environment, and so does a push whose
 * payload did not list its paths. Pure.
 */
public final class AffectedEnvironments {

  private static final Pattern ENV_FILE = Pattern.compile("values-(.+)\\.ya?ml");
  private static final Pattern SHARED_FILE = Pattern.compile("values\\.ya?ml");

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
      if (SHARED_FILE.matcher(name).matches()) return Optional.empty();
      Matcher env = ENV_FILE.matcher(name);
      if (env.matches()) environments.add(env.group(1));
    }
    return Optional.of(environments);
  }
}
