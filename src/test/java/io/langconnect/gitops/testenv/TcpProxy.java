package io.langconnect.gitops.testenv;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP proxy to a real server (PostgreSQL in the metrics tests). {@link #stop()} closes the listener
 * and every open connection: to the client it is as if the database went down.
 */
public final class TcpProxy implements AutoCloseable {

  private final NetServer server;
  private final NetClient client;
  private final List<NetSocket> sockets = new CopyOnWriteArrayList<>();

  private TcpProxy(NetServer server, NetClient client) {
    this.server = server;
    this.client = client;
  }

  public static TcpProxy start(Vertx vertx, String host, int port) {
    return start(vertx, host, port, java.time.Duration.ZERO);
  }

  /** Each connection is made upstream only after {@code connectDelay}: a slow server, or a slow network. */
  public static TcpProxy start(Vertx vertx, String host, int port, java.time.Duration connectDelay) {
    NetClient client = vertx.createNetClient();
    TcpProxy[] self = new TcpProxy[1];
    NetServer server = vertx.createNetServer().connectHandler(inbound -> {
      inbound.pause();
      self[0].sockets.add(inbound);
      vertx.setTimer(Math.max(1, connectDelay.toMillis()), id -> client.connect(port, host).onSuccess(outbound -> {
        self[0].sockets.add(outbound);
        inbound.pipeTo(outbound);
        outbound.pipeTo(inbound);
        inbound.resume();
      }).onFailure(e -> inbound.close()));
    });
    LocalControlPlane.await(server.listen(0, "127.0.0.1"));
    self[0] = new TcpProxy(server, client);
    return self[0];
  }

  public int port() {
    return server.actualPort();
  }

  /** The database "goes down": no new connections, and the open ones are cut. */
  public void stop() {
    LocalControlPlane.await(server.close());
    sockets.forEach(NetSocket::close);
  }

  @Override
  public void close() {
    LocalControlPlane.await(Future.join(server.close(), client.close()));
  }
}
