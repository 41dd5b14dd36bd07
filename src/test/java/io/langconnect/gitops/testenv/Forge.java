package io.langconnect.gitops.testenv;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * The test env's Gitea (scripts/forge.sh), through its REST API as a user's scripts would call it: repositories,
 * webhooks, and the commit statuses the controller posted.
 */
public final class Forge {

  private final String url;
  private final String token;
  private final HttpClient http = HttpClient.newHttpClient();

  private Forge(String url, String token) {
    this.url = url;
    this.token = token;
  }

  public static Forge of(LocalControlPlane plane) {
    return new Forge(plane.setting("FORGE_URL"), plane.setting("FORGE_TOKEN"));
  }

  public String url() {
    return url;
  }

  public String token() {
    return token;
  }

  /** Its address for git over HTTP. */
  public String cloneUrl(String repository) {
    return url + "/" + repository + ".git";
  }

  /** A new private repository of the admin, named uniquely: owner/name. */
  public String newRepository(String prefix) throws IOException, InterruptedException {
    String name = prefix + "-" + System.nanoTime();
    JsonObject made = call("POST", "/user/repos", new JsonObject().put("name", name).put("private", true)
        .put("default_branch", "main"));
    return made.getString("full_name");
  }

  /** A push webhook of Gitea's own type, signed with {@code secret}. */
  public void addPushWebhook(String repository, String target, String secret) throws IOException, InterruptedException {
    call("POST", "/repos/" + repository + "/hooks", new JsonObject().put("type", "gitea").put("active", true)
        .put("events", new JsonArray().add("push"))
        .put("config", new JsonObject().put("url", target).put("content_type", "json").put("secret", secret)));
  }

  /**
   * Whether the forge has handled the push of {@code commit}: its activity feed names it. Gitea queues a push's
   * handling; its webhook notifier runs before its feed's, so a hook added after this is not sent that push.
   */
  public boolean pushHandled(String repository, String commit) throws IOException, InterruptedException {
    return send("GET", "/repos/" + repository + "/activities/feeds?limit=50", null).body().contains(commit);
  }

  /** The statuses of one commit, newest first (by their index: several may share a second). */
  public JsonArray statuses(String repository, String commit) throws IOException, InterruptedException {
    HttpResponse<String> response = send("GET", "/repos/" + repository + "/statuses/" + commit + "?sort=leastindex&limit=50", null);
    return new JsonArray(response.body());
  }

  private JsonObject call(String method, String path, JsonObject body) throws IOException, InterruptedException {
    return new JsonObject(send(method, path, body).body());
  }

  private HttpResponse<String> send(String method, String path, JsonObject body) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/api/v1" + path))
        .header("Authorization", "token " + token).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.encode()))
        .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() / 100 != 2) {
      throw new IOException(method + " " + path + " on the forge: HTTP " + response.statusCode() + " " + response.body());
    }
    return response;
  }
}
