package io.langconnect.gitops.sync;

import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.git.ValuesRepository;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jgit.lib.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls the remote branch head. When it equals the last published commit the poll stops there: no fetch,
 * no render, no API call. Otherwise it fetches, reads the values files of the new commit and publishes
 * them. A failing remote is retried with exponential backoff and jitter; the status board says so.
 */
public final class GitPollerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(GitPollerVerticle.class);

  private record Fetched(String revision, Optional<Map<String, String>> files) {}

  private final ValuesRepository repository;
  private final Duration interval;
  private final SyncMetrics metrics;
  private final StatusBoard board;

  private String published;
  private long timer = -1;
  private boolean polling;
  private boolean pollAgain;
  private int failures;

  public GitPollerVerticle(ValuesRepository repository, Duration interval, SyncMetrics metrics, StatusBoard board) {
    this.repository = repository;
    this.interval = interval;
    this.metrics = metrics;
    this.board = board;
  }

  @Override
  public Future<?> start() {
    vertx.eventBus().<JsonObject>localConsumer(Addresses.POLL_REQUESTED, message -> pollNow());
    pollNow();
    return Future.succeededFuture();
  }

  private void pollNow() {
    if (polling) {
      pollAgain = true;
      return;
    }
    if (timer >= 0) vertx.cancelTimer(timer);
    timer = -1;
    polling = true;
    vertx.executeBlocking(this::pollBlocking, false).onComplete(result -> {
      polling = false;
      if (result.succeeded()) {
        failures = 0;
        result.result().ifPresent(this::publish);
        schedule(interval);
      } else {
        failures++;
        Duration wait = Retry.backoff(failures, Duration.ofSeconds(2), interval.compareTo(Duration.ofMinutes(5)) > 0
            ? interval : Duration.ofMinutes(5));
        String error = result.cause().getMessage();
        LOG.warn("{}; retrying in {} s (failure {})", error, wait.toSeconds(), failures);
        board.git(new StatusBoard.GitStatus(repository.url(), repository.branch(), published,
            board.git().map(StatusBoard.GitStatus::lastFetch).orElse(null), error, Instant.now()));
        schedule(wait);
      }
      if (pollAgain) {
        pollAgain = false;
        pollNow();
      }
    });
  }

  private void schedule(Duration delay) {
    if (vertx == null) return;
    timer = vertx.setTimer(Math.max(1, delay.toMillis()), id -> {
      timer = -1;
      pollNow();
    });
  }

  /** Runs on a worker: ls-remote, and fetch + read only when the head moved. */
  private Optional<Fetched> pollBlocking() throws Exception {
    Instant asked = Instant.now();
    ObjectId head;
    try {
      head = repository.remoteHead();
    } catch (Exception e) {
      metrics.gitPoll("failed", Duration.between(asked, Instant.now()));
      throw e;
    }
    if (head.name().equals(published)) {
      metrics.gitPoll("unchanged", Duration.between(asked, Instant.now()));
      return Optional.empty();
    }
    metrics.gitPoll("fetched", Duration.between(asked, Instant.now()));
    Instant start = Instant.now();
    try {
      ObjectId fetched = repository.fetch();
      metrics.gitFetch(true, Duration.between(start, Instant.now()));
      return Optional.of(new Fetched(fetched.name(), repository.valuesFiles(fetched)));
    } catch (Exception e) {
      metrics.gitFetch(false, Duration.between(start, Instant.now()));
      throw e;
    }
  }

  private void publish(Fetched fetched) {
    published = fetched.revision();
    board.git(new StatusBoard.GitStatus(repository.url(), repository.branch(), published, Instant.now(), null, null));
    board.markGitReady();
    JsonObject message = new JsonObject().put("revision", fetched.revision());
    fetched.files().ifPresent(files -> message.put("files", new JsonObject(Map.copyOf(files))));
    LOG.info("fetched {} at {}", repository.branch(), SyncService.shortRevision(fetched.revision()));
    vertx.eventBus().publish(Addresses.REVISION_FETCHED, message);
  }

  @Override
  public Future<?> stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}
