package io.langconnect.gitops.status;

import io.langconnect.gitops.apply.SyncResult;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where a sync's outcomes go, and what it remembers of an environment's last one (to tell a new Degraded or a
 * new prune hold from one already reported). The controller keeps them on its status board and in its metrics; a
 * one-shot command keeps nothing ({@link #NONE}).
 */
public interface SyncRecord {

  /** The last recorded status of the environment, if any. */
  Optional<EnvironmentStatus> last(String environment);

  /** The environment's values were read: the kinds it renders (none when the values are invalid). */
  void rendered(String environment, List<String> kinds);

  /** A sync of {@code revision} is about to apply (no guard held it). */
  default void started(String environment, String revision) {}

  /** What an apply did to each object. */
  void applied(String environment, SyncResult result);

  /** A sync (or prune) ended with this status after {@code took}. */
  void finished(EnvironmentStatus status, Duration took);

  /** The environment's health changed between syncs. */
  void healthChanged(EnvironmentStatus status);

  /** The environment was pruned: nothing of it is remembered any more. */
  void removed(String environment);

  /** The reclaim policies of the environment's bound volumes, as a sync found or set them. */
  default void volumes(String environment, List<io.langconnect.gitops.apply.Applier.Volume> volumes) {}

  SyncRecord NONE = new SyncRecord() {
    @Override
    public Optional<EnvironmentStatus> last(String environment) {
      return Optional.empty();
    }

    @Override
    public void rendered(String environment, List<String> kinds) {}

    @Override
    public void applied(String environment, SyncResult result) {}

    @Override
    public void finished(EnvironmentStatus status, Duration took) {}

    @Override
    public void healthChanged(EnvironmentStatus status) {}

    @Override
    public void removed(String environment) {}
  };

  /** Passes every call on to another record: a decorator overrides only what it adds to. */
  abstract class Forwarding implements SyncRecord {
    private final SyncRecord inner;

    protected Forwarding(SyncRecord inner) {
      this.inner = inner;
    }

    @Override
    public Optional<EnvironmentStatus> last(String environment) {
      return inner.last(environment);
    }

    @Override
    public void rendered(String environment, List<String> kinds) {
      inner.rendered(environment, kinds);
    }

    @Override
    public void started(String environment, String revision) {
      inner.started(environment, revision);
    }

    @Override
    public void applied(String environment, SyncResult result) {
      inner.applied(environment, result);
    }

    @Override
    public void finished(EnvironmentStatus status, Duration took) {
      inner.finished(status, took);
    }

    @Override
    public void healthChanged(EnvironmentStatus status) {
      inner.healthChanged(status);
    }

    @Override
    public void removed(String environment) {
      inner.removed(environment);
    }

    @Override
    public void volumes(String environment, List<io.langconnect.gitops.apply.Applier.Volume> volumes) {
      inner.volumes(environment, volumes);
    }
  }

  /** The controller's: the status board the API serves and the metrics it exports. */
  static SyncRecord of(StatusBoard board, SyncMetrics metrics) {
    return new SyncRecord() {
      @Override
      public Optional<EnvironmentStatus> last(String environment) {
        return board.get(environment);
      }

      @Override
      public void rendered(String environment, List<String> kinds) {
        metrics.environmentKnown(environment, kinds);
      }

      @Override
      public void applied(String environment, SyncResult result) {
        metrics.objects(environment, result);
      }

      @Override
      public void finished(EnvironmentStatus status, Duration took) {
        board.put(status);
        metrics.syncFinished(status.name(), status.result(), took);
        metrics.placement(status.name(), status.namespace(), status.cluster());
        metrics.environmentState(status.name(), status.ready(), status.suspension().isPresent());
      }

      @Override
      public void healthChanged(EnvironmentStatus status) {
        board.put(status);
        metrics.environmentState(status.name(), status.ready(), status.suspension().isPresent());
      }

      @Override
      public void volumes(String environment, List<io.langconnect.gitops.apply.Applier.Volume> volumes) {
        metrics.volumes(environment, volumes);
      }

      @Override
      public void removed(String environment) {
        board.remove(environment);
        metrics.forget(environment);
      }
    };
  }
}
