package io.langconnect.gitops.sync;

import io.langconnect.gitops.apply.Retry;
import io.langconnect.gitops.git.ValuesRepository;
import io.langconnect.gitops.status.StatusBoard;
import io.langconnect.gitops.status.SyncMetrics;
import io.langconnect.gitops.values.NamespacePolicy;
import io.langconnect.gitops.values.Sops;
import io.langconnect.gitops.values.ValuesFolder;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.eclipse.jgit.lib.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls the remote branch head. When it equals the last published commit the poll stops there: no fetch,
 * no render, no API call (unless that commit has sops-encrypted files and the age keys changed since it was read:
 * then it is read again). Otherwise it fetches, reads the values files of the new commit and publishes them. A
 * failing remote is retried with exponential backoff and jitter; the status board says so.
 * Push webhooks ask for a poll now: the first at once, and those that arrive while it is in flight collapse into
 * one more poll after it (or, with a debounce window, those within the window into one), which names the
 * environments the pushes changed when it knows them.
 */
public final class GitPollerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(GitPollerVerticle.class);
  /** How long to wait for a mirror that answered with an older head than the webhook's "after". */
  private static final int LAGGING_MIRROR_RETRIES = 10;

  private record Fetched(String revision, Optional<List<ValuesFolder.Environment>> environments) {}

  /** Webhook deliveries collapsed into one poll. */
  private static final class Batch {
    String before;
    String after;
    boolean all;
    final Set<String> environments = new HashSet<>();
    long receivedAt = Long.MAX_VALUE;
  }

  private final ValuesRepository repository;
  private final NamespacePolicy namespaces;
  /** Asked for only when a values file is sops-encrypted. */
  private final Supplier<Sops.Keys> keys;
  private final Duration interval;
  private final Duration debounce;
  private final SyncMetrics metrics;
  private final StatusBoard board;

  private String published;
  /** The keys the published commit's encrypted files were read with; null when none was encrypted. Worker only. */
  private volatile Sops.Keys keysUsed;
  private long timer = -1;
  private long debounceTimer = -1;
  private boolean polling;
  /** The poll running on a worker, if any: stopping waits for it, so nothing writes into the clone after close. */
  private Future<?> inFlight = Future.succeededFuture();
  private boolean stopped;
  private boolean pollAgain;
  private Batch collecting;
  private Batch ready;
  private int failures;

  public GitPollerVerticle(ValuesRepository repository, NamespacePolicy namespaces, Supplier<Sops.Keys> keys,
                           Duration interval, Duration debounce, SyncMetrics metrics, StatusBoard board) {
    this.repository = repository;
    this.namespaces = namespaces;
    this.keys = keys;
    this.interval = interval;
    this.debounce = debounce;
    this.metrics = metrics;
    this.board = board;
  }

  @Override
  public Future<?> start() {
    metrics.gitKnown();
    Revision.registerCodec(vertx.eventBus());
    vertx.eventBus().<JsonObject>localConsumer(Addresses.POLL_REQUESTED, message -> onWebhook(message.body()));
    pollNow();
    return Future.succeededFuture();
  }

  private void onWebhook(JsonObject push) {
    if (collecting == null) collecting = new Batch();
    Batch batch = collecting;
    if (batch.before == null) batch.before = push.getString("before");
    batch.after = push.getString("after");
    JsonArray environments = push.getJsonArray("environments");
    if (environments == null) batch.all = true;
    else environments.forEach(env -> batch.environments.add(String.valueOf(env)));
    batch.receivedAt = Math.min(batch.receivedAt, push.getLong("receivedAt", System.currentTimeMillis()));
    if (debounce.isZero()) {
      // At once; pushes that arrive while this fetch is in flight wait in one batch for the poll after it.
      ready = merge(ready, collecting);
      collecting = null;
      pollNow();
    } else if (debounceTimer < 0) {
      debounceTimer = vertx.setTimer(Math.max(1, debounce.toMillis()), id -> {
        debounceTimer = -1;
        ready = merge(ready, collecting);
        collecting = null;
        pollNow();
      });
    }
  }

  /** {@code newer} now covering both: from where the older started to where the newer ended (or the older, if none). */
  private static Batch merge(Batch older, Batch newer) {
    if (older == null) return newer;
    newer.before = older.before;
    if (newer.after == null) newer.after = older.after;
    newer.all |= older.all;
    newer.environments.addAll(older.environments);
    newer.receivedAt = Math.min(older.receivedAt, newer.receivedAt);
    return newer;
  }

  private void pollNow() {
    if (stopped) return;
    if (polling) {
      pollAgain = true;
      return;
    }
    if (timer >= 0) vertx.cancelTimer(timer);
    timer = -1;
    polling = true;
    Batch batch = ready;
    ready = null;
    String expected = batch == null ? null : batch.after;
    inFlight = vertx.executeBlocking(() -> pollBlocking(expected), false).onComplete(result -> {
      polling = false;
      if (stopped) return;
      if (result.succeeded()) {
        failures = 0;
        schedule(interval); // first: nothing that goes wrong below may stop the polling
        result.result().ifPresent(fetched -> publish(fetched, batch));
      } else {
        failures++;
        Duration wait = Retry.backoff(failures, Duration.ofSeconds(2), interval.compareTo(Duration.ofMinutes(5)) > 0
            ? interval : Duration.ofMinutes(5));
        String error = result.cause().getMessage();
        LOG.warn("{}; retrying in {} s (failure {})", error, wait.toSeconds(), failures);
        board.git(new StatusBoard.GitStatus(repository.url(), repository.branch(), published,
            board.git().map(StatusBoard.GitStatus::lastFetch).orElse(null), error, Instant.now()));
        if (batch != null) ready = merge(batch, ready == null ? new Batch() : ready);
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

  /**
   * Runs on a worker. A timer's poll asks for the head (ls-remote, cheap) and fetches only when it moved; a push
   * names the commit it brought, so its poll fetches at once (one round trip fewer between push and apply).
   */
  private Optional<Fetched> pollBlocking(String expected) throws Exception {
    if (expected == null && !headMoved()) {
      return keysChanged() ? Optional.of(read(repository.fetchedHead().get())) : Optional.empty();
    }
    Instant start = Instant.now();
    try {
      ObjectId fetched = repository.fetch();
      // A webhook can arrive before every mirror behind the URL has the pushed commit: ask again, briefly.
      for (int i = 0; expected != null && !fetched.name().equals(expected) && i < LAGGING_MIRROR_RETRIES; i++) {
        Thread.sleep(200);
        fetched = repository.fetch();
      }
      metrics.gitFetch(true, Duration.between(start, Instant.now()));
      if (fetched.name().equals(published)) return Optional.empty();
      return Optional.of(read(fetched));
    } catch (Exception e) {
      metrics.gitFetch(false, Duration.between(start, Instant.now()));
      throw e;
    }
  }

  /** The commit's values files, parsed; the keys an encrypted file asked for are remembered. */
  private Fetched read(ObjectId commit) throws ValuesRepository.GitException {
    Optional<Map<String, String>> files = repository.valuesFiles(commit);
    keysUsed = null;
    return new Fetched(commit.name(), files.map(contents -> ValuesFolder.load(contents, repository.displayPrefix(),
        namespaces, () -> keysUsed = keys.get())));
  }

  /**
   * Whether the age keys differ from those the published commit's encrypted files were read with (a key Secret
   * created or rotated after the commit): then the same commit is read again. Asked only when a file is encrypted.
   */
  private boolean keysChanged() {
    if (keysUsed == null || published == null || repository.fetchedHead().isEmpty()) return false;
    try {
      return !keys.get().identities().equals(keysUsed.identities());
    } catch (RuntimeException e) {
      LOG.debug("age keys not read again: {}", e.getMessage());
      return false;
    }
  }

  private boolean headMoved() throws ValuesRepository.GitException {
    Instant asked = Instant.now();
    ObjectId head;
    try {
      head = repository.remoteHead();
    } catch (ValuesRepository.GitException e) {
      metrics.gitPoll("failed", Duration.between(asked, Instant.now()));
      throw e;
    }
    boolean moved = !head.name().equals(published);
    metrics.gitPoll(moved ? "fetched" : "unchanged", Duration.between(asked, Instant.now()));
    return moved;
  }

  private void publish(Fetched fetched, Batch batch) {
    String previous = published;
    published = fetched.revision();
    board.git(new StatusBoard.GitStatus(repository.url(), repository.branch(), published, Instant.now(), null, null));
    board.markGitReady();
    Optional<Set<String>> changed = Optional.empty();
    // Only when the pushes start where we were do their file lists cover everything that changed.
    if (batch != null && !batch.all && previous != null && previous.equals(batch.before) && published.equals(batch.after)) {
      changed = Optional.of(batch.environments);
    }
    LOG.info("fetched {} at {}", repository.branch(), SyncRun.shortRevision(fetched.revision()));
    if (fetched.environments().isEmpty()) {
      LOG.error("the values path {} does not exist at {}; nothing is synced or pruned until it does",
          repository.displayPrefix().isEmpty() ? "." : repository.displayPrefix(), SyncRun.shortRevision(published));
    }
    vertx.eventBus().publish(Addresses.REVISION_FETCHED,
        new Revision(fetched.revision(), fetched.environments(), changed, batch == null ? 0 : batch.receivedAt));
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    if (debounceTimer >= 0) vertx.cancelTimer(debounceTimer);
    return inFlight.otherwiseEmpty();
  }
}
