package io.langconnect.gitops.sync;

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

  /** Ready once a first git fetch and a first API call have succeeded (on any replica). */
  public boolean ready() {
    return gitReady && apiReady;
  }

  public void leader(boolean isLeader) {
    leader = isLeader;
  }

  public boolean leader() {
    return leader;
  }
}
