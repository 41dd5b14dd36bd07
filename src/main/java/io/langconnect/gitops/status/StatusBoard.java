package io.langconnect.gitops.status;

import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The latest status of every environment and of the git source, shared between the sync side (which
 * writes it) and the HTTP side (which reads it). Thread-safe; holds values, no behaviour.
 */
public final class StatusBoard {

  /** The git source: which commit was fetched last, and the last error if the latest attempt failed. */
  public record GitStatus(String url, String branch, String revision, Instant lastFetch, String lastError,
                          Instant lastErrorTime) {}

  private final Map<String, EnvironmentStatus> environments = new ConcurrentHashMap<>();
  private final AtomicReference<GitStatus> git = new AtomicReference<>();
  private volatile boolean gitReady;
  private volatile boolean apiReady;
  private volatile boolean leader;

  public void put(EnvironmentStatus status) {
    environments.put(status.name(), status);
  }

  public void remove(String environment) {
    environments.remove(environment);
  }

  public Optional<EnvironmentStatus> get(String environment) {
    return Optional.ofNullable(environments.get(environment));
  }

  public List<EnvironmentStatus> all() {
    Collection<EnvironmentStatus> values = environments.values();
    return values.stream().sorted(Comparator.comparing(EnvironmentStatus::name)).toList();
  }

  public void git(GitStatus status) {
    git.set(status);
  }

  public Optional<GitStatus> git() {
    return Optional.ofNullable(git.get());
  }

  public void markGitReady() {
    gitReady = true;
  }

  public void markApiReady() {
    apiReady = true;
  }

  /**
   * Ready once the API server answered and, on the replica that syncs, a first git fetch succeeded. A standby
   * fetches nothing: it serves /metrics and hands webhooks to the leader, so it is ready once the API answers
   * (else a Deployment of two never becomes Available and its rollouts and drains wait forever).
   */
  public boolean ready() {
    return apiReady && (gitReady || !leader);
  }

  public void leader(boolean isLeader) {
    leader = isLeader;
  }

  public boolean leader() {
    return leader;
  }
}
