package io.langconnect.gitops.observe;

import io.langconnect.gitops.values.PostgresVersions;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The PostgreSQL version each environment's server reported to the collector ({@code server_version_num}): the
 * truth about which major version wrote the data, whatever tag is deployed. Thread-safe.
 */
public final class ServerVersions {

  private final Map<String, Integer> versions = new ConcurrentHashMap<>();

  void record(String environment, int serverVersionNum) {
    versions.put(environment, serverVersionNum);
  }

  void forget(String environment) {
    versions.remove(environment);
  }

  /** The running server's major version, when the collector has reached it. */
  public Optional<Integer> major(String environment) {
    return Optional.ofNullable(versions.get(environment)).map(PostgresVersions::majorOf);
  }
}
