package io.langconnect.gitops.apply;

import java.util.Optional;

/**
 * Orders two resourceVersions of one object. The API server documents them as opaque, yet every one it hands out
 * is etcd's revision, a number that only grows: compared as such when both are numbers, else not at all (the caller
 * then asks the API server).
 */
public final class ResourceVersions {

  private ResourceVersions() {}

  /** Negative, zero or positive as {@code a} is older than, the same as or newer than {@code b}; empty if unknown. */
  public static Optional<Integer> compare(String a, String b) {
    try {
      return Optional.of(Long.compare(Long.parseLong(a), Long.parseLong(b)));
    } catch (NumberFormatException | NullPointerException e) {
      return Optional.empty();
    }
  }
}
