package io.langconnect.gitops.net;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's HTTP connections, both ways: Vert.x logs a connection's exception at ERROR when nothing handles it,
 * yet a peer that resets a connection no request waits on (a client that gave up, a pod replaced in a rollout, a
 * killed leader) is no error of ours. A request's own failure still fails that request.
 */
public final class Connections {

  private static final Logger LOG = LoggerFactory.getLogger(Connections.class);

  private Connections() {}

  /** Logs the end of {@code connection} by its peer at debug instead of Vert.x's ERROR. */
  public static void quiet(HttpConnection connection) {
    connection.exceptionHandler(e -> LOG.debug("HTTP connection with {} ended: {}", connection.remoteAddress(), e.toString()));
  }

  /** A WebClient to a peer (LangConnect's probe, a standby's forwards, the forges) whose connections are {@link #quiet}. */
  public static WebClient webClient(Vertx vertx, WebClientOptions options) {
    return WebClient.wrap(vertx.httpClientBuilder().with(options).withConnectHandler(Connections::quiet).build(), options);
  }
}
