package io.langconnect.gitops.sync;

import io.langconnect.gitops.values.ValuesFolder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A fetched commit as the poller read it on its worker: the environments its values files describe (absent when
 * the values path does not exist at that commit), and the environments the push webhooks that asked for it
 * changed (absent when that is unknown: a timed poll, or pushes that do not start where the last commit was).
 */
public record Revision(String commit, Optional<List<ValuesFolder.Environment>> environments,
                       Optional<Set<String>> changed, long webhookReceivedAt) {

  public Revision {
    environments = environments.map(List::copyOf);
    changed = changed.map(Set::copyOf);
  }

  /** Whether a sync of {@code environment} is asked for by this revision. */
  public boolean touches(String environment) {
    return changed.map(names -> names.contains(environment)).orElse(true);
  }

  /** Lets a revision travel on the event bus of this process, as it is (it is immutable). Idempotent. */
  static void registerCodec(EventBus bus) {
    try {
      bus.registerDefaultCodec(Revision.class, new LocalCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // another controller in this process registered it first
    }
  }

  private static final class LocalCodec implements MessageCodec<Revision, Revision> {
    @Override
    public void encodeToWire(Buffer buffer, Revision revision) {
      throw new UnsupportedOperationException("a revision never leaves its process");
    }

    @Override
    public Revision decodeFromWire(int pos, Buffer buffer) {
      throw new UnsupportedOperationException("a revision never leaves its process");
    }

    @Override
    public Revision transform(Revision revision) {
      return revision;
    }

    @Override
    public String name() {
      return "langconnect-revision";
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }
}
