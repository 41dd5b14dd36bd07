package io.langconnect.gitops.render;

import java.util.Map;
import java.util.TreeMap;

/** The one place that names labels and annotations, so selectors, inventory and pruning agree on them. */
public final class Labels {

  public static final String NAME = "app.kubernetes.io/name";
  public static final String INSTANCE = "app.kubernetes.io/instance";
  public static final String COMPONENT = "app.kubernetes.io/component";
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String PART_OF = "app.kubernetes.io/part-of";
  public static final String ENVIRONMENT = "langconnect-gitops.io/environment";

  public static final String MANAGER = "langconnect-gitops";
  public static final String APP_NAME = "langconnect";

  /** On a LangConnect Deployment whose database is not bundled: its engine (external). */
  public static final String ENGINE_ANNOTATION = "langconnect-gitops.io/postgres-engine";
  /** The container beside LangConnect that is ready only while an external database answers pg_isready. */
  public static final String DATABASE_PROBE_CONTAINER = "database-probe";
  /** The volume of an external database's CA in the pods that connect to it. */
  public static final String DATABASE_CA_VOLUME = "postgres-ca";
  public static final String REVISION_ANNOTATION = "langconnect-gitops.io/revision";
  public static final String SECRET_CHECKSUM_ANNOTATION = "langconnect-gitops.io/secret-checksum";
  /**
   * What a render puts in {@link #SECRET_CHECKSUM_ANNOTATION}: the Secrets the pods read, by name. The applier
   * replaces it with a hash of those Secrets' identities and versions (a rewritten Secret rolls the pods), which tells
   * nothing about their content to whoever can read the pods.
   */
  public static final String SECRETS_PREFIX = "secrets:";

  public static String secretsPlaceholder(java.util.Collection<String> secretNames) {
    return SECRETS_PREFIX + String.join(",", new java.util.TreeSet<>(secretNames));
  }
  /** On a Secret rendered without a password: the applier fills this key once with a random password. */
  public static final String GENERATE_PASSWORD_ANNOTATION = "langconnect-gitops.io/generate-password";

  public static final String POSTGRES = "postgres";
  public static final String LANGCONNECT = "langconnect";
  public static final String BACKUP = "backup";

  private Labels() {}

  /** The labels a component's pods are selected by; they never change after the first apply. */
  public static Map<String, String> selector(String release, String component) {
    Map<String, String> labels = new TreeMap<>();
    labels.put(NAME, APP_NAME);
    labels.put(INSTANCE, release);
    labels.put(COMPONENT, component);
    return labels;
  }

  /** The labels every object the controller creates carries. */
  public static Map<String, String> object(String release, String component, String environment) {
    Map<String, String> labels = selector(release, component);
    labels.put(MANAGED_BY, MANAGER);
    labels.put(PART_OF, APP_NAME);
    labels.put(ENVIRONMENT, environment);
    return labels;
  }
}
