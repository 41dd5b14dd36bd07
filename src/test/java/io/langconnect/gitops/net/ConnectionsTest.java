package io.langconnect.gitops.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.langconnect.gitops.testenv.LogCapture;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConnectionsTest {

  /**
   * A LangConnect pod replaced in a rollout resets the probe's kept-alive connection: found by the soak, Vert.x logged
   * it at ERROR ("ConnectionBase: Connection reset") though no request was waiting on it.
   */
  @Test
  void aPeerThatResetsAnIdleKeptAliveConnectionIsNoError() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (ServerSocket server = new ServerSocket(0); LogCapture logged = LogCapture.start()) {
      CountDownLatch reset = new CountDownLatch(1);
      Thread peer = new Thread(() -> {
        try (Socket socket = server.accept()) {
          socket.getInputStream().read(new byte[4096]);
          socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
          socket.getOutputStream().flush();
          Thread.sleep(300); // the client has put the connection back in its pool
          socket.setSoLinger(true, 0); // closing now sends RST, as a pod that is gone does
        } catch (Exception e) {
          throw new IllegalStateException(e);
        } finally {
          reset.countDown();
        }
      });
      peer.start();
      WebClient client = Connections.webClient(vertx, new WebClientOptions().setIdleTimeout(10));
      assertThat(client.get(server.getLocalPort(), "127.0.0.1", "/health").send().await().bodyAsString()).isEqualTo("ok");
      assertThat(reset.await(10, TimeUnit.SECONDS)).isTrue();
      Thread.sleep(500);
      assertThat(logged.text()).doesNotContain("ERROR");
    } finally {
      vertx.close().await();
    }
  }
}
