package io.langconnect.gitops.http;

import io.langconnect.gitops.backup.BackupService;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.control.Controls;
import io.langconnect.gitops.net.Connections;
import io.langconnect.gitops.observe.MetricsExposition;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.StatusBoard;
import io.langconnect.gitops.sync.Addresses;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's HTTP surface: {@code /metrics}, {@code /healthz}, {@code /readyz}, the status API and
 * the webhooks.
 * It only reads the status board and puts requests on the event bus; no handler blocks.
 */
public final class HttpApiVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(HttpApiVerticle.class);

  private final StatusBoard board;
  private final MetricsExposition metrics;
  private final Optional<String> apiToken;
  private final WebhookRoutes webhooks;
  private final Actions actions;
  private final ControllerConfig.Http settings;
  private HttpServer server;
  private WebClient client;

  /**
   * What the write endpoints do, each off the event loop: start a backup (answers the Job's name), suspend
   * (a suspension) or resume (empty), confirm a held prune. Suspensions and confirmations are written to the
   * cluster, where the leader watches them.
   */
  public record Actions(Function<EnvironmentStatus, Future<BackupService.Started>> backup,
                        BiFunction<String, Optional<Controls.Suspension>, Future<Void>> suspend,
                        Function<String, Future<Void>> confirmPrune,
                        Function<String, Future<Void>> applyWithoutBackup,
                        Supplier<Future<Optional<String>>> leaderApiUrl) {}

  /**
   * Set on a request a standby passed on, so that a stale address never sends it round in a loop; with an API token
   * configured it holds the standby's signature (ForwardSignature), never the caller's token.
   */
  static final String FORWARDED = "X-LangConnect-GitOps-Forwarded";
  /** Nonces of forwarded requests already taken, with when they expire: a signature counts once. */
  private final java.util.Map<String, Long> usedNonces = new java.util.HashMap<>();

  public HttpApiVerticle(StatusBoard board, MetricsExposition metrics, Optional<String> apiToken,
                         WebhookRoutes webhooks, Actions actions, ControllerConfig.Http settings) {
    this.actions = actions;
    this.board = board;
    this.metrics = metrics;
    this.apiToken = apiToken;
    this.webhooks = webhooks;
    this.settings = settings;
  }

  public int actualPort() {
    return server.actualPort();
  }

  @Override
  public Future<?> start() {
    client = Connections.webClient(vertx, new WebClientOptions().setConnectTimeout(5_000));
    Router router = Router.router(vertx);
    router.get("/healthz").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain").end("ok\n"));
    router.get("/readyz").handler(this::ready);
    // Rendered on a worker when stale (see MetricsExposition): never on the event loop.
    router.get("/metrics").handler(ctx -> vertx.executeBlocking(metrics::scrape, false)
        .onSuccess(text -> ctx.response().putHeader("Content-Type", MetricsExposition.CONTENT_TYPE).end(text))
        .onFailure(ctx::fail));
    // With an API token configured, the status API asks for it too (it names namespaces and the repository);
    // /healthz, /readyz and /metrics stay open for probes and Prometheus.
    router.route("/api/v1/*").handler(BodyHandler.create().setBodyLimit(16 * 1024));
    router.route("/api/v1/*").handler(this::fromTheLeader);
    router.get("/api/v1/*").handler(ctx -> {
      if (apiToken.isEmpty() || authorized(ctx)) ctx.next();
    });
    router.get("/api/v1/environments").handler(ctx -> json(ctx, 200, new JsonObject()
        .put("leader", board.leader())
        .put("git", board.git().map(HttpApiVerticle::git).orElse(null))
        .put("environments", new JsonArray(board.all().stream().map(HttpApiVerticle::environment).toList()))));
    router.get("/api/v1/environments/:name").handler(ctx -> board.get(ctx.pathParam("name"))
        .ifPresentOrElse(status -> json(ctx, 200, environment(status)),
            () -> error(ctx, 404, "no environment \"" + ctx.pathParam("name") + "\"")));
    router.post("/api/v1/environments/:name/sync").handler(this::requestSync);
    router.post("/api/v1/environments/:name/backup").handler(this::requestBackup);
    router.post("/api/v1/environments/:name/suspend").handler(ctx -> suspend(ctx, true));
    router.post("/api/v1/environments/:name/resume").handler(ctx -> suspend(ctx, false));
    router.post("/api/v1/environments/:name/prune").handler(this::confirmPrune);
    router.post("/api/v1/environments/:name/apply-without-backup").handler(this::applyWithoutBackup);
    webhooks.mount(router);
    router.route().failureHandler(HttpApiVerticle::clientFault);
    HttpServerOptions options = new HttpServerOptions().setIdleTimeout((int) settings.idleTimeout().toMillis())
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    return vertx.createHttpServer(options).requestHandler(router)
        .connectionHandler(Connections::quiet)
        .listen(settings.port(), settings.host())
        .onSuccess(s -> server = s);
  }

  /**
   * A client's fault is no error of ours (Vert.x would log it as an "Unhandled exception in router"): a request whose
   * client went away mid-way has no one to answer, and one refused by a handler (a body over the limit: 413) gets its
   * status; both are logged at debug. Anything else goes on to Vert.x, which logs it at ERROR and answers 500.
   */
  private static void clientFault(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof java.net.SocketException || failure instanceof io.vertx.core.http.HttpClosedException
        || ctx.response().closed()) {
      LOG.debug("{} {}: the client went away: {}", ctx.request().method(), ctx.normalizedPath(), String.valueOf(failure));
      return;
    }
    int status = ctx.statusCode();
    if (failure == null && status >= 400 && status < 500) {
      LOG.debug("{} {}: refused with {}", ctx.request().method(), ctx.normalizedPath(), status);
      if (!ctx.response().ended()) {
        error(ctx, status, HttpResponseStatus.valueOf(status).reasonPhrase());
      }
      return;
    }
    ctx.next();
  }

  /**
   * Only the leader syncs, so only its board has the environments: a standby passes status and write requests on
   * to the leader's API. It checks the caller's token itself and sends on only its own signature of the request:
   * the leader's address comes from a ConfigMap, and a credential must not go wherever that says.
   */
  private void fromTheLeader(RoutingContext ctx) {
    if (board.leader()) {
      ctx.next();
      return;
    }
    if (ctx.request().getHeader(FORWARDED) != null) {
      error(ctx, 503, "this replica is not the leader either; a new leader is being elected, try again");
      return;
    }
    boolean read = ctx.request().method() == io.vertx.core.http.HttpMethod.GET;
    if ((apiToken.isPresent() || !read) && !authorized(ctx)) return;
    actions.leaderApiUrl().get().onComplete(found -> {
      if (found.failed() || found.result().isEmpty()) {
        error(ctx, 503, "this replica is a standby and no leader has announced its address yet; try again");
        return;
      }
      Buffer body = ctx.body().buffer() == null ? Buffer.buffer() : ctx.body().buffer();
      String vouch = apiToken.map(token -> ForwardSignature.sign(token, ctx.request().method().name(),
          ctx.request().uri(), body.getBytes(), java.time.Instant.now(), java.util.UUID.randomUUID().toString()))
          .orElse("1");
      HttpRequest<Buffer> request = client.requestAbs(ctx.request().method(), found.result().get() + ctx.request().uri())
          .timeout(30_000).putHeader(FORWARDED, vouch);
      String contentType = ctx.request().getHeader("Content-Type");
      if (contentType != null) request.putHeader("Content-Type", contentType);
      request.sendBuffer(body).onComplete(answer -> {
        if (answer.failed()) {
          error(ctx, 503, "this replica is a standby and the leader at " + found.result().get() + " did not answer: "
              + answer.cause().getMessage());
          return;
        }
        answer.result().headers().forEach((name, value) -> {
          if (name.equalsIgnoreCase("Content-Type") || name.equalsIgnoreCase("WWW-Authenticate")) {
            ctx.response().putHeader(name, value);
          }
        });
        ctx.response().setStatusCode(answer.result().statusCode())
            .end(answer.result().body() == null ? Buffer.buffer() : answer.result().body());
      });
    });
  }

  private void ready(RoutingContext ctx) {
    if (board.ready()) ctx.response().putHeader("Content-Type", "text/plain").end("ready\n");
    else ctx.response().setStatusCode(503).putHeader("Content-Type", "text/plain")
        .end("not ready: waiting for the first git fetch and API call\n");
  }

  /** The write endpoints need the bearer token from http.apiTokenFile; without one configured they are off. */
  private boolean authorized(RoutingContext ctx) {
    if (apiToken.isEmpty()) {
      error(ctx, 404, "this endpoint is off; set http.apiTokenFile to enable it");
      return false;
    }
    String forwarded = ctx.request().getHeader(FORWARDED);
    if (forwarded != null && ctx.request().getHeader("Authorization") == null && vouchedFor(ctx, forwarded)) return true;
    String header = Optional.ofNullable(ctx.request().getHeader("Authorization")).orElse("");
    byte[] given = header.startsWith("Bearer ") ? header.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
    // Never compared against an empty secret: an empty token would let a request without one through.
    if (given.length == 0 || apiToken.get().isEmpty()
        || !MessageDigest.isEqual(given, apiToken.get().getBytes(StandardCharsets.UTF_8))) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      error(ctx, 401, "missing or wrong bearer token");
      return false;
    }
    return true;
  }

  /** A standby's genuine, fresh signature of this very request, not seen before (the standby checked the caller). */
  private boolean vouchedFor(RoutingContext ctx, String signature) {
    long now = System.currentTimeMillis();
    usedNonces.values().removeIf(expires -> expires < now);
    byte[] body = ctx.body() == null || ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
    Optional<String> nonce = ForwardSignature.verify(apiToken.get(), signature, ctx.request().method().name(),
        ctx.request().uri(), body, java.time.Instant.ofEpochMilli(now));
    if (nonce.isEmpty() || usedNonces.containsKey(nonce.get())) return false;
    usedNonces.put(nonce.get(), now + 2 * ForwardSignature.WINDOW.toMillis());
    return true;
  }

  private void requestBackup(RoutingContext ctx) {
    if (!authorized(ctx)) return;
    String name = ctx.pathParam("name");
    Optional<EnvironmentStatus> status = board.get(name);
    if (status.isEmpty()) {
      error(ctx, 404, "no environment \"" + name + "\"");
      return;
    }
    actions.backup().apply(status.get())
        .onSuccess(started -> json(ctx, 202, new JsonObject().put("environment", name).put(started.key(), started.name())))
        .onFailure(e -> error(ctx, 409, e.getMessage()));
  }

  /** Body (optional): {@code {"reason": "...", "by": "..."}}; "by" defaults to "api". */
  private void suspend(RoutingContext ctx, boolean suspend) {
    if (!authorized(ctx)) return;
    String name = ctx.pathParam("name");
    if (board.get(name).isEmpty()) {
      error(ctx, 404, "no environment \"" + name + "\"");
      return;
    }
    Optional<Controls.Suspension> suspension = Optional.empty();
    if (suspend) {
      JsonObject body;
      try {
        body = ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
      } catch (RuntimeException e) {
        error(ctx, 400, "the body is not a JSON object; expected {\"reason\": \"...\", \"by\": \"...\"} or nothing");
        return;
      }
      suspension = Optional.of(new Controls.Suspension(body.getString("by", "api"), body.getString("reason", ""),
          java.time.Instant.now()));
    }
    actions.suspend().apply(name, suspension)
        .onSuccess(v -> json(ctx, 202, new JsonObject().put("environment", name)
            .put("status", suspend ? "suspended" : "resumed: a sync starts now")))
        .onFailure(e -> error(ctx, 503, "could not record it in the cluster: " + e.getMessage()));
  }

  private void confirmPrune(RoutingContext ctx) {
    answerHeld(ctx, EnvironmentStatus.Result.PRUNE_HELD, "prune", actions.confirmPrune(), "prune confirmed");
  }

  /** For a held database change whose backup cannot be taken: the database does not run. */
  private void applyWithoutBackup(RoutingContext ctx) {
    answerHeld(ctx, EnvironmentStatus.Result.HELD, "change", actions.applyWithoutBackup(),
        "its held database change is applied without a backup while the database is not running");
  }

  /** An operator's answer to what holds an environment: 409 unless it is {@code held}, else recorded and 202. */
  private void answerHeld(RoutingContext ctx, EnvironmentStatus.Result held, String what,
                          Function<String, Future<Void>> action, String done) {
    if (!authorized(ctx)) return;
    String name = ctx.pathParam("name");
    Optional<EnvironmentStatus> status = board.get(name);
    if (status.isEmpty() || status.get().result() != held) {
      error(ctx, 409, "environment \"" + name + "\" has no held " + what + status.map(s -> " (it is "
          + s.result().label() + ")").orElse(""));
      return;
    }
    action.apply(name)
        .onSuccess(v -> json(ctx, 202, new JsonObject().put("environment", name).put("status", done)))
        .onFailure(e -> error(ctx, 503, "could not record it in the cluster: " + e.getMessage()));
  }

  private void requestSync(RoutingContext ctx) {
    if (!authorized(ctx)) return;
    String name = ctx.pathParam("name");
    if (board.get(name).isEmpty()) {
      error(ctx, 404, "no environment \"" + name + "\"");
      return;
    }
    vertx.eventBus().publish(Addresses.SYNC_REQUESTED, new JsonObject().put("environment", name).put("reason", "api"));
    json(ctx, 202, new JsonObject().put("environment", name).put("status", "sync requested"));
  }

  static JsonObject environment(EnvironmentStatus s) {
    return new JsonObject()
        .put("name", s.name())
        .put("namespace", s.namespace())
        .put("cluster", s.cluster())
        .put("revision", s.revision())
        .put("result", s.result().label())
        .put("ready", s.ready())
        .put("health", new JsonObject().put("status", titleCase(s.health().state().name()))
            .put("message", s.health().message()))
        .put("suspended", s.suspension().map(p -> new JsonObject().put("by", p.by()).put("reason", p.reason())
            .put("since", p.since().toString())).orElse(null))
        .put("lastBackupBeforeChange", s.lastBackupBeforeChange().isEmpty() ? null : s.lastBackupBeforeChange())
        .put("message", s.message())
        .put("lastSyncTime", s.lastSyncTime() == null ? null : s.lastSyncTime().toString())
        .put("lastSyncDurationSeconds", s.lastSyncDuration() == null ? null : s.lastSyncDuration().toMillis() / 1000.0)
        .put("lastSuccessTime", s.lastSuccessTime() == null ? null : s.lastSuccessTime().toString())
        .put("driftCorrections", s.driftCorrections())
        .put("objects", new JsonArray(s.objects().stream().map(o -> {
          JsonObject object = new JsonObject().put("kind", o.kind()).put("name", o.name()).put("action", o.action())
              .put("driftCorrected", o.driftCorrected());
          return o.note().isEmpty() ? object : object.put("note", o.note());
        }).toList()));
  }

  private static JsonObject git(StatusBoard.GitStatus g) {
    return new JsonObject().put("url", g.url()).put("branch", g.branch()).put("revision", g.revision())
        .put("lastFetch", g.lastFetch() == null ? null : g.lastFetch().toString())
        .put("lastError", g.lastError())
        .put("lastErrorTime", g.lastErrorTime() == null ? null : g.lastErrorTime().toString());
  }

  private static String titleCase(String name) {
    return name.charAt(0) + name.substring(1).toLowerCase();
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encodePrettily());
  }

  private static void error(RoutingContext ctx, int status, String message) {
    json(ctx, status, new JsonObject().put("error", message));
  }

  @Override
  public Future<?> stop() {
    if (client != null) client.close();
    return server == null ? Future.succeededFuture() : server.close();
  }
}
