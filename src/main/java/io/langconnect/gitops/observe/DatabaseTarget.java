package io.langconnect.gitops.observe;

import java.util.Optional;

/**
 * One environment's database and LangConnect as the collector reaches them. The password is kept out of
 * {@link #toString()} so that it can never reach a log line.
 */
public record DatabaseTarget(String environment, String namespace, String release, String host, int port,
                             String database, String username, Optional<String> password, boolean ssl,
                             String langconnectUrl) {

  @Override
  public String toString() {
    return environment + " (" + username + "@" + host + ":" + port + "/" + database + ")";
  }
}
