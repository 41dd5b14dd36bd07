package io.langconnect.gitops.values;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The naming rules of a values folder, in one place: {@code values.yaml} is shared by every environment,
 * {@code values-<env>.yaml} (or {@code .yml}) is environment {@code <env>}, which lives in namespace
 * {@code langconnect-<env>} unless its file names another.
 */
public final class ValuesFiles {

  private static final Pattern ENVIRONMENT_FILE = Pattern.compile("values-(.+)\\.ya?ml");
  private static final Pattern SHARED_FILE = Pattern.compile("values\\.ya?ml");
  private static final String NAMESPACE_PREFIX = "langconnect-";

  private ValuesFiles() {}

  /** The environment a file (a name without folders) describes, if it is an environment's file. */
  public static Optional<String> environmentOf(String fileName) {
    Matcher m = ENVIRONMENT_FILE.matcher(fileName);
    return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
  }

  public static boolean isShared(String fileName) {
    return SHARED_FILE.matcher(fileName).matches();
  }

  public static boolean isValuesFile(String fileName) {
    return isShared(fileName) || environmentOf(fileName).isPresent();
  }

  /** Where an environment lives when its file does not say. */
  public static String defaultNamespace(String environment) {
    return NAMESPACE_PREFIX + environment;
  }

  /** The longest environment name whose default namespace is still a valid name (63 characters). */
  public static int maxEnvironmentName() {
    return 63 - NAMESPACE_PREFIX.length();
  }
}
