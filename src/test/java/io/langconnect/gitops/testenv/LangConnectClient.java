package io.langconnect.gitops.testenv;

import io.vertx.core.json.JsonObject;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/** LangConnect's API as its clients use it, through its Service on the test node, right after pods were replaced. */
public final class LangConnectClient {

  private LangConnectClient() {}

  /**
   * Adds {@code texts} to {@code collection} (LangConnect embeds them) through the Service at {@code serviceIp}.
   * Ready is not yet routable: for a moment after a rollout kube-proxy may still send the Service's address to a pod
   * that is gone, which refuses ("No route to host") or, while the node's ARP entry for it lives, drops the SYN
   * silently (Linux retries it for two minutes). Either way no server got the request, so it is sent again, on a
   * client of its own each time: a kept-alive connection through a Service can outlive the pod behind it, and Java's
   * client retries a GET on such a connection, never a POST.
   */
  public static HttpResponse<String> addDocuments(String serviceIp, String collection, List<String> texts, String owner)
      throws Exception {
    String body = new JsonObject().put("texts", texts).put("owner", owner).encode();
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + serviceIp + ":8080/collections/" + collection
            + "/documents")).timeout(Duration.ofMinutes(2))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      try {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build()
            .send(request, HttpResponse.BodyHandlers.ofString());
      } catch (ConnectException | HttpConnectTimeoutException e) {
        if (System.nanoTime() > deadline) throw e;
        Thread.sleep(500);
      }
    }
  }
}
