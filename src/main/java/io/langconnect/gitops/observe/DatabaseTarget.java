package io.langconnect.gitops.observe;

import java.util.Optional;

/**
 * One environment's database and LangConnect as the collector reaches them. The password is kept out of
 * {@link #toString()} so that it can never reach a log line. {@code sslMode} is libpq's (disable when not set);
 * {@code caPem} the certificate that verifies the server, when one is given.
 */
public record DatabaseTarget(String environment, String namespace, String release, String host, int port,
                             String database, String username, Optional<String> password, String sslMode,
                             Optional<String> caPem, String langconnectUrl) {

  /**
   * Who this is: an environment's name alone is not enough (two controllers, or an environment that moved, can
   * leave one name in two namespaces).
   */
  public String key() {
    return key(namespace, environment);
  }

  static String key(String namespace, String environment) {
    return namespace + "/" + environment;
  }

  @Override
  public String toString() {
    return environment + " (" + username + "@" + host + ":" + port + "/" + database + ")";
  }
}
