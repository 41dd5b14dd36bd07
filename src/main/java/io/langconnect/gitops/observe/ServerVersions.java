package io.langconnect.gitops.observe;

import io.langconnect.gitops.values.PostgresVersions;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The PostgreSQL version each environment's server (by namespace and name) reported to the collector ({@code server_version_num}): the
 * truth about which major version wrote the data, whatever tag is deployed. Thread-safe.
 */
public final class ServerVersions {

  private final Map<String, Integer> versions = new ConcurrentHashMap<>();

  void record(DatabaseTarget target, int serverVersionNum) {
    versions.put(target.key(), serverVersionNum);
  }

  void forget(DatabaseTarget target) {
    versions.remove(target.key());
  }

  /** The major version of the server of {@code environment} in {@code namespace}, when the collector reached it. */
  public Optional<Integer> major(String namespace, String environment) {
    return Optional.ofNullable(versions.get(DatabaseTarget.key(namespace, environment))).map(PostgresVersions::majorOf);
  }
}
