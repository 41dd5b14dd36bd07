package io.langconnect.gitops.cli;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "get", mixinStandardHelpOptions = true,
    description = "One line per environment, from the running controller's status API (as `flux get"
        + " kustomizations`): name, cluster, ready, suspended, revision, age, message.%n"
        + "Exit 0 when every environment is Ready, 1 when any is not, 2 when the controller cannot be asked.")
final class GetCommand implements Callable<Integer> {

  private static final String FORMAT = "%-16s %-12s %-6s %-10s %-13s %-6s %s%n";

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--server", paramLabel = "URL", defaultValue = "${env:LANGCONNECT_GITOPS_SERVER:-http://127.0.0.1:8080}",
      description = "The controller's HTTP address (default: LANGCONNECT_GITOPS_SERVER or ${DEFAULT-VALUE}),"
          + " e.g. through `kubectl -n langconnect-gitops port-forward svc/langconnect-gitops 8080`.")
  String server;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "The bearer token, when the controller has http.apiTokenFile set.")
  Path tokenFile;

  @Option(names = "--watch", description = "Keep following: print an environment's line again whenever it changes.")
  boolean watch;

  @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "2s", description = "How often --watch asks.")
  String interval;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    Duration every = ControllerOptions.duration("--interval", interval);
    Map<String, String> shown = new HashMap<>();
    out.printf(FORMAT, "NAME", "CLUSTER", "READY", "SUSPENDED", "REVISION", "AGE", "MESSAGE");
    while (true) {
      List<JsonObject> environments = fetch(http);
      boolean allReady = !environments.isEmpty();
      for (JsonObject env : environments) {
        String line = line(env, Instant.now());
        allReady &= env.getBoolean("ready", false);
        // The age moves on every poll; a line is new when anything else in it changed.
        String withoutAge = line(env, null);
        if (!withoutAge.equals(shown.put(env.getString("name"), withoutAge)) || !watch) out.print(line);
      }
      out.flush();
      if (!watch) return allReady ? 0 : 1;
      Thread.sleep(every.toMillis());
    }
  }

  private List<JsonObject> fetch(HttpClient http) throws InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.replaceAll("/+$", "") + "/api/v1/environments"))
        .timeout(Duration.ofSeconds(10)).GET();
    if (tokenFile != null) {
      try {
        request.header("Authorization", "Bearer " + Files.readString(tokenFile).strip());
      } catch (IOException e) {
        throw new Main.UserError("--token-file " + tokenFile + ": cannot read it (" + e.getClass().getSimpleName() + ")");
      }
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException | IllegalArgumentException e) {
      throw new Main.UserError("cannot reach the controller at " + server + " (" + e.getMessage() + "); expected its"
          + " HTTP address in --server or LANGCONNECT_GITOPS_SERVER");
    }
    if (response.statusCode() != 200) {
      throw new Main.UserError("the controller at " + server + " answered " + response.statusCode()
          + (response.statusCode() == 401 ? ": expected its API token in --token-file" : ": " + response.body().strip()));
    }
    try {
      List<JsonObject> environments = new ArrayList<>();
      new JsonObject(response.body()).getJsonArray("environments").forEach(e -> environments.add((JsonObject) e));
      return environments;
    } catch (DecodeException | ClassCastException | NullPointerException e) {
      throw new Main.UserError("the controller at " + server + " answered something that is not its status API");
    }
  }

  static String line(JsonObject env, Instant now) {
    JsonObject suspended = env.getJsonObject("suspended");
    String revision = env.getString("revision", "");
    String ready = env.getBoolean("ready", false) ? "True" : "False";
    JsonObject health = env.getJsonObject("health", new JsonObject());
    // A sync that did not go through says why; a synced one says how what runs is doing.
    String message = !"Synced".equals(env.getString("result")) ? env.getString("message", "")
        : env.getBoolean("ready", false) ? health.getString("message", "")
        : health.getString("status", "") + ": " + health.getString("message", "");
    return String.format(FORMAT, env.getString("name"), env.getString("cluster", "in-cluster"), ready, suspended == null ? "False" : "True",
        revision.length() > 12 ? revision.substring(0, 12) : revision, age(env.getString("lastSyncTime"), now),
        message.replace('\n', ' '));
  }

  /** As kubectl prints ages: 45s, 12m, 3h, 2d. */
  static String age(String since, Instant now) {
    if (since == null || now == null) return "-";
    long seconds = Math.max(0, Duration.between(Instant.parse(since), now).toSeconds());
    if (seconds < 120) return seconds + "s";
    if (seconds < 7200) return seconds / 60 + "m";
    if (seconds < 172800) return seconds / 3600 + "h";
    return seconds / 86400 + "d";
  }
}
