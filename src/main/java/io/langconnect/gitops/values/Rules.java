package io.langconnect.gitops.values;

import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Format rules for values, each returning what was expected when a value breaks it, or null when it
 * is fine. Kept as plain functions so the binder reads as a list of keys and their rules.
 */
final class Rules {

  private static final Pattern DNS_1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS_1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern DNS_1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  // The repository part of a Docker/OCI reference. As in Docker, a first component is a registry host only
  // when it has a '.' or a port or is localhost; the path components are lowercase.
  private static final Pattern IMAGE_REPOSITORY = Pattern.compile(
      "(?:(?:localhost|[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)+)(?::[0-9]+)?/|[a-zA-Z0-9-]+:[0-9]+/)?"
          + "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
  private static final Pattern IMAGE_TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern IMAGE_DIGEST = Pattern.compile("sha256:[a-f0-9]{64}");
  private static final Pattern POSTGRES_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])");
  static final Set<String> SSL_MODES = Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");
  static final Set<String> ENGINES = Set.of("bundled", "external", "cloudnative-pg");
  static final Set<String> PULL_POLICIES = Set.of("Always", "IfNotPresent", "Never");
  static final Set<String> ACCESS_MODES = Set.of("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod");
  static final Set<String> SERVICE_TYPES = Set.of("ClusterIP", "NodePort", "LoadBalancer");

  private Rules() {}

  static String dns1123Label(String value) {
    return value.length() <= 63 && DNS_1123_LABEL.matcher(value).matches()
        ? null
        : "a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";
  }

  static String dns1123Subdomain(String value) {
    return value.length() <= 253 && DNS_1123_SUBDOMAIN.matcher(value).matches()
        ? null
        : "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters";
  }

  /** A release prefixes every object name, and the longest suffix is {@code -postgres-backups}; Services need DNS-1035. */
  static String releaseName(String value) {
    int max = 63 - "-postgres-backups".length();
    return value.length() <= max && DNS_1035_LABEL.matcher(value).matches()
        ? null
        : "a DNS-1035 label of at most " + max + " characters (lowercase letters, digits and '-', starting with a letter)"
            + " so that every object name stays valid";
  }

  static String imageRepository(String value) {
    return value.length() <= 255 && IMAGE_REPOSITORY.matcher(value).matches()
        ? null
        : "an image repository such as pgvector/pgvector or registry.example.com:5000/team/langconnect"
            + " (lowercase path, no tag; put the tag in image.tag)";
  }

  static String imageTag(String value) {
    return IMAGE_TAG.matcher(value).matches() || IMAGE_DIGEST.matcher(value).matches()
        ? null
        : "an image tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-') or a sha256: digest";
  }

  static String pullPolicy(String value) {
    return PULL_POLICIES.contains(value) ? null : "one of Always, IfNotPresent, Never";
  }

  static String reclaimPolicy(String value) {
    return value.equals("Retain") || value.equals("Delete") ? null : "Retain or Delete";
  }

  private static final Pattern S3_PATH = Pattern.compile(
      "s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*'()-]+)*/?");
  private static final Pattern SECRET_KEY = Pattern.compile("[-._a-zA-Z0-9]{1,253}");
  private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  static String s3Path(String value) {
    return S3_PATH.matcher(value).matches() && !value.contains("/../") && !value.endsWith("/..")
        ? null : "s3://bucket or s3://bucket/prefix (a bucket name of 3 to 63 lowercase letters, digits, '.' and '-';"
        + " a prefix of letters, digits and !_.*'()-, separated by /)";
  }

  static String httpUrl(String value) {
    try {
      java.net.URI uri = new java.net.URI(value);
      boolean ok = ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null
          && uri.getUserInfo() == null && uri.getQuery() == null && uri.getFragment() == null;
      return ok ? null : "an http:// or https:// URL of the S3 endpoint, without credentials or query";
    } catch (java.net.URISyntaxException e) {
      return "an http:// or https:// URL of the S3 endpoint, without credentials or query";
    }
  }

  static String region(String value) {
    return REGION.matcher(value).matches() ? null : "a region name such as eu-west-1 (lowercase letters, digits, '-')";
  }

  static String secretKey(String value) {
    return SECRET_KEY.matcher(value).matches() ? null : "a Secret key: letters, digits, '-', '_' and '.'";
  }

  /** A host name (DNS-1123, as managed databases' endpoints are) or an IPv4 address; it reaches probe command lines. */
  static String host(String value) {
    return value.length() <= 253 && (DNS_1123_SUBDOMAIN.matcher(value).matches() || IPV4.matcher(value).matches())
        ? null
        : "a host name (lowercase letters, digits, '-' and '.') or an IPv4 address";
  }

  static String sslMode(String value) {
    return SSL_MODES.contains(value) ? null : "one of disable, allow, prefer, require, verify-ca, verify-full (libpq's sslmode)";
  }

  static String engine(String value) {
    return ENGINES.contains(value) ? null : "one of bundled, external, cloudnative-pg";
  }

  static String accessMode(String value) {
    return ACCESS_MODES.contains(value) ? null : "one of ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod";
  }

  static String serviceType(String value) {
    return SERVICE_TYPES.contains(value) ? null : "one of ClusterIP, NodePort, LoadBalancer";
  }

  /** Role and database names are limited to plain identifiers: they reach shell command lines (probes, pg_dump). */
  static String postgresName(String value) {
    return POSTGRES_NAME.matcher(value).matches()
        ? null
        : "a plain PostgreSQL name: 1 to 63 letters, digits and '_', not starting with a digit";
  }

  static String envName(String value) {
    return ENV_NAME.matcher(value).matches()
        ? null
        : "an environment variable name: letters, digits and '_', not starting with a digit";
  }

  /** A Kubernetes quantity that is not negative, such as 500m, 1, 512Mi or 20Gi. */
  static String quantity(String value) {
    try {
      BigDecimal amount = Quantity.parse(value).getNumericalAmount();
      return amount.signum() < 0 ? "a quantity that is not negative" : null;
    } catch (RuntimeException e) {
      return "a Kubernetes quantity such as 500m, 1, 512Mi or 20Gi";
    }
  }

  static String positiveQuantity(String value) {
    String problem = quantity(value);
    if (problem != null) return problem;
    return Quantity.parse(value).getNumericalAmount().signum() > 0 ? null : "a quantity larger than zero, such as 20Gi";
  }

  static BigDecimal amount(String quantity) {
    return Quantity.parse(quantity).getNumericalAmount();
  }

  private static final com.cronutils.parser.CronParser CRON = new com.cronutils.parser.CronParser(
      com.cronutils.model.definition.CronDefinitionBuilder.instanceDefinitionFor(com.cronutils.model.CronType.UNIX));
  static final Set<String> CRON_MACROS = Set.of("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly");

  /** A schedule as a Kubernetes CronJob takes it: five cron fields, or a macro such as @daily. */
  static String cron(String value) {
    if (CRON_MACROS.contains(value)) return null;
    try {
      CRON.parse(value);
      return value.trim().split("\\s+").length == 5 ? null : "a cron schedule of five fields";
    } catch (IllegalArgumentException e) {
      return "a cron schedule such as \"0 3 * * *\" (five fields) or a macro such as @daily";
    }
  }

  static String timeZone(String value) {
    return java.time.ZoneId.getAvailableZoneIds().contains(value)
        ? null
        : "an IANA time zone name such as Europe/Berlin or UTC";
  }

  /** The reference chart's placeholders ({@code CHANGE_ME_IN_PRODUCTION} and the like) are never real secrets. */
  static boolean isPlaceholder(String value) {
    String normalized = value.trim().toUpperCase().replace("-", "_");
    return normalized.startsWith("CHANGE_ME") || normalized.startsWith("CHANGEME");
  }
}
