package io.langconnect.gitops.net;

import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** HTTP clients of the controller's peers: LangConnect (the probe), the leader (a standby's forwards), the forges. */
public final class PeerClients {

  private static final Logger LOG = LoggerFactory.getLogger(PeerClients.class);

  private PeerClients() {}

  /**
   * A WebClient whose kept-alive connections may be reset by the peer while idle (a pod replaced in a rollout, a
   * leader killed) without an ERROR: Vert.x logs a connection's exception at ERROR when nothing handles it, yet no
   * request was waiting on it, and the next request opens a new connection. A request's own failure still fails it.
   */
  public static WebClient webClient(Vertx vertx, WebClientOptions options) {
    return WebClient.wrap(vertx.httpClientBuilder().with(options)
        .withConnectHandler(connection -> connection.exceptionHandler(e -> LOG.debug("connection to {} ended: {}",
            connection.remoteAddress(), e.toString())))
        .build(), options);
  }
}
