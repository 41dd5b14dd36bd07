package io.langconnect.gitops.webhook;

import java.util.Optional;
import java.util.Set;

/**
 * A verified push: the branch ref, the commit before and after it, and the paths its commits added,
 * modified or removed ({@code empty} when the payload does not list them).
 */
public record PushEvent(String ref, Optional<String> before, String after, Optional<Set<String>> changedPaths) {

  public PushEvent {
    changedPaths = changedPaths.map(Set::copyOf);
  }

  public boolean isBranch(String branch) {
    return ref.equals("refs/heads/" + branch);
  }
}
