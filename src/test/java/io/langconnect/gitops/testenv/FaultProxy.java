package io.langconnect.gitops.testenv;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A loopback HTTPS proxy in front of the local API server that can break chosen requests: answer with
 * an error status (500, 409, 429, ...), answer late, or cut the connection. Everything else is passed
 * through unchanged, watches included (fabric8 watches over WebSockets, which are passed frame by frame). It presents the API server's own certificate (valid for
 * 127.0.0.1), so clients trust it exactly as they trust the API server.
 */
public final class FaultProxy implements AutoCloseable {

  /** What to do to a matching request. */
  public sealed interface Fault {
    record Status(int code, String reason) implements Fault {}
    record Delay(Duration delay) implements Fault {}
    record Cut() implements Fault {}
    /** The status line, the headers and half the body, then silence on an open connection. */
    record Stall() implements Fault {}

    static Fault status(int code) {
      return new Status(code, "injected by FaultProxy");
    }

    static Fault delay(Duration delay) {
      return new Delay(delay);
    }

    static Fault cut() {
      return new Cut();
    }

    static Fault stall() {
      return new Stall();
    }
  }

  private record Rule(Predicate<HttpServerRequest> match, Fault fault, AtomicInteger remaining) {}

  private final Vertx vertx;
  private final HttpServer server;
  private final HttpClientAgent upstream;
  private final WebSocketClient upstreamSockets;
  private final URI target;
  private final String host;
  private final ConcurrentLinkedQueue<Rule> rules = new ConcurrentLinkedQueue<>();
  private final AtomicInteger injected = new AtomicInteger();
  private final AtomicInteger writes = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private final java.util.concurrent.ConcurrentHashMap<String, AtomicInteger> byKind = new java.util.concurrent.ConcurrentHashMap<>();
  /** Every request as "METHOD path", watches marked, in the order they came. */
  private final java.util.Queue<String> log = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final java.util.Set<io.vertx.core.http.HttpConnection> connections = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private FaultProxy(Vertx vertx, HttpServer server, HttpClientAgent upstream, WebSocketClient upstreamSockets, URI target,
      String host) {
    this.host = host;
    this.vertx = vertx;
    this.server = server;
    this.upstream = upstream;
    this.upstreamSockets = upstreamSockets;
    this.target = target;
  }

  /** Starts a proxy to the local API server on a free loopback port. */
  public static FaultProxy start(LocalControlPlane plane) {
    return start(plane.apiUrl(), plane.caFile());
  }

  /** Starts a proxy to the API server at {@code apiUrl}, whose CA (and serving key, beside it) is {@code caFile}. */
  public static FaultProxy start(String apiUrl, String caFile) {
    return start(apiUrl, caFile, "127.0.0.1");
  }

  /**
   * As {@link #start(String, String)}, listening on {@code host}: the node's address lets the node's pods come through
   * it (the API server's certificate names that address too).
   */
  public static FaultProxy start(String apiUrl, String caFile, String host) {
    Vertx vertx = LocalControlPlane.vertx();
    Path pki = Path.of(caFile).getParent();
    // A Go client's watches are long HTTP requests, each holding a connection: the pool must not run dry (5 by default).
    HttpClientAgent upstream = vertx.createHttpClient(new HttpClientOptions()
        .setSsl(true)
        .setTrustOptions(new PemTrustOptions().addCertPath(caFile)), new io.vertx.core.http.PoolOptions()
        .setHttp1MaxSize(256));
    HttpServerOptions options = new HttpServerOptions()
        .setHost(host).setPort(0).setSsl(true)
        .setKeyCertOptions(new PemKeyCertOptions()
            .setCertPath(pki.resolve("apiserver.crt").toString())
            .setKeyPath(pki.resolve("apiserver.key").toString()));
    FaultProxy[] self = new FaultProxy[1];
    HttpServer server = LocalControlPlane.await(vertx.createHttpServer(options)
        .requestHandler(request -> self[0].handle(request))
        .connectionHandler(connection -> {
          self[0].connections.add(connection);
          connection.closeHandler(v -> self[0].connections.remove(connection));
        })
        .listen());
    WebSocketClient sockets = vertx.createWebSocketClient(new WebSocketClientOptions().setSsl(true)
        .setTrustOptions(new PemTrustOptions().addCertPath(caFile)));
    self[0] = new FaultProxy(vertx, server, upstream, sockets, URI.create(apiUrl), host);
    return self[0];
  }

  public String url() {
    return "https://" + host + ":" + server.actualPort();
  }

  public String host() {
    return host;
  }

  public int port() {
    return server.actualPort();
  }

  /** Applies {@code fault} to the next {@code times} requests that match. */
  public FaultProxy inject(int times, Predicate<HttpServerRequest> match, Fault fault) {
    rules.add(new Rule(match, fault, new AtomicInteger(times)));
    return this;
  }

  /** Matches requests by method and a fragment of the path. */
  public static Predicate<HttpServerRequest> request(String method, String pathFragment) {
    return r -> r.method().name().equals(method) && r.path().contains(pathFragment);
  }

  /** Forgets every fault not yet applied: requests pass again. */
  public void heal() {
    rules.clear();
  }

  /** Cuts every connection open now, watches included, as an API server restart or a proxy timeout would. */
  public int cutAll() {
    int open = connections.size();
    connections.forEach(io.vertx.core.http.HttpConnection::close);
    return open;
  }

  /** How many requests were broken so far. */
  public int injectedCount() {
    return injected.get();
  }

  /** Every request so far, watches (WebSocket upgrades) included. */
  public int requestCount() {
    return requests.get();
  }

  /** Requests so far by method and resource ("GET pods", "PATCH deployments", "GET pods (watch)"). */
  public java.util.Map<String, Integer> requestsByKind() {
    java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
    byKind.forEach((kind, n) -> counts.put(kind, n.get()));
    return counts;
  }

  /** /api/v1/namespaces/ns/pods/p -> pods; /apis/apps/v1/deployments -> deployments. */
  private static String resourceOf(String path) {
    String[] parts = path.split("/");
    for (int i = 0; i < parts.length - 2; i++) {
      if (parts[i].equals("namespaces")) return parts[i + 2];
    }
    int version = path.startsWith("/api/") ? 2 : 3;
    return parts.length > version + 1 ? parts[version + 1] : path;
  }

  /** Every request so far, as "METHOD path" (" (watch)" after a watch), in the order they came. */
  public java.util.List<String> requests() {
    return java.util.List.copyOf(log);
  }

  /** Requests that asked to change something (anything but GET, HEAD, OPTIONS), dry runs included. */
  public int writeCount() {
    return writes.get();
  }

  private void handle(HttpServerRequest request) {
    boolean webSocket = "websocket".equalsIgnoreCase(request.getHeader("Upgrade"));
    Future<Buffer> body = webSocket ? Future.succeededFuture(Buffer.buffer()) : request.body();
    String method = request.method().name();
    requests.incrementAndGet();
    String watch = request.getParam("watch") != null || webSocket ? " (watch)" : "";
    byKind.computeIfAbsent(method + " " + resourceOf(request.path()) + watch, k -> new AtomicInteger()).incrementAndGet();
    log.add(method + " " + request.path() + watch);
    if (!method.equals("GET") && !method.equals("HEAD") && !method.equals("OPTIONS")) writes.incrementAndGet();
    for (Rule rule : rules) {
      if (rule.match().test(request) && rule.remaining().getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
        injected.incrementAndGet();
        applyFault(request, body, rule.fault());
        return;
      }
    }
    forward(request, body);
  }

  private void applyFault(HttpServerRequest request, Future<Buffer> body, Fault fault) {
    if (fault instanceof Fault.Status status) {
      String json = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\""
          + status.reason() + "\",\"code\":" + status.code() + "}";
      request.response().setStatusCode(status.code()).putHeader("Content-Type", "application/json");
      if (status.code() == 429) request.response().putHeader("Retry-After", "1");
      request.response().end(json);
    } else if (fault instanceof Fault.Delay delay) {
      vertx.setTimer(delay.delay().toMillis(), id -> forward(request, body));
    } else if (fault instanceof Fault.Stall) {
      stall(request, body);
    } else {
      request.connection().close();
    }
  }

  private RequestOptions upstreamOptions(HttpServerRequest request) {
    return new RequestOptions()
        .setMethod(request.method())
        .setHost(target.getHost())
        .setPort(target.getPort())
        .setURI(request.uri())
        .setHeaders(MultiMap.caseInsensitiveMultiMap().addAll(request.headers()).remove("Host"));
  }

  private void forward(HttpServerRequest request, Future<Buffer> body) {
    if ("websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
      forwardWebSocket(request);
      return;
    }
    body.compose(bytes -> upstream.request(upstreamOptions(request)).compose(outbound -> {
          // A client that goes away (a watch it closed) takes the upstream stream with it: left open, the API
          // server would keep writing into a pooled connection that the next request then reuses.
          request.response().closeHandler(v -> outbound.reset());
          return outbound.send(bytes);
        }))
        .onSuccess(response -> {
          // The framing is this hop's own: a stream without a length (a Go client's HTTP watch) is chunked again.
          request.response().setStatusCode(response.statusCode());
          response.headers().forEach((name, value) -> {
            if (!name.equalsIgnoreCase("Transfer-Encoding")) request.response().headers().add(name, value);
          });
          if (response.getHeader("Content-Length") == null) request.response().setChunked(true);
          response.pipeTo(request.response());
        })
        .onFailure(error -> request.response().setStatusCode(502).end(String.valueOf(error.getMessage())));
  }

  private void stall(HttpServerRequest request, Future<Buffer> body) {
    body.compose(bytes -> upstream.request(upstreamOptions(request)).compose(outbound -> outbound.send(bytes)))
        .compose(response -> response.body().map(full -> {
          request.response().setStatusCode(response.statusCode()).setChunked(true);
          response.headers().forEach((name, value) -> {
            if (!name.equalsIgnoreCase("Content-Length")) request.response().headers().add(name, value);
          });
          return request.response().write(full.getBuffer(0, full.length() / 2));
        }));
  }

  /** fabric8's watches are WebSockets: frames are passed both ways, and a close on either side closes the other. */
  private void forwardWebSocket(HttpServerRequest request) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost(target.getHost()).setPort(target.getPort())
        .setSsl(true).setURI(request.uri());
    String authorization = request.getHeader("Authorization");
    if (authorization != null) options.addHeader("Authorization", authorization);
    String protocols = request.getHeader("Sec-WebSocket-Protocol");
    if (protocols != null) options.setSubProtocols(java.util.Arrays.stream(protocols.split(",")).map(String::trim).toList());
    // Accepted at once (the upgrade must happen in the request's handler); the upstream follows or the socket closes.
    request.toWebSocket().onSuccess(down -> upstreamSockets.connect(options).onComplete(connected -> {
      if (connected.failed()) {
        down.close((short) 1011, String.valueOf(connected.cause().getMessage()));
        return;
      }
      WebSocket up = connected.result();
      if (down.isClosed()) { // the client left while the upstream was connecting
        up.close();
        return;
      }
      up.frameHandler(down::writeFrame);
      down.frameHandler(up::writeFrame);
      up.closeHandler(v -> down.close());
      down.closeHandler(v -> up.close());
    }));
  }

  @Override
  public void close() {
    LocalControlPlane.await(Future.join(server.close(), upstream.close(), upstreamSockets.close()));
  }
}
