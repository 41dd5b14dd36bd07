package io.langconnect.gitops.webhook;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Verifies and reads one webhook delivery. Pure: bytes and headers in, an outcome out. The order is the
 * one that leaks least: media type, then signature (nothing of an unsigned body is parsed), then body.
 */
public final class WebhookParser {

  /** What to answer and do. */
  public sealed interface Outcome permits Push, Acknowledged, Rejected {}

  /** A verified push to act on (or to ignore if it is for another branch). */
  public record Push(PushEvent event) implements Outcome {}

  /** Verified, but nothing to do (ping, another event type). */
  public record Acknowledged(String reason) implements Outcome {}

  /** Refused, with the HTTP status to answer. */
  public record Rejected(int status, String reason) implements Outcome {}

  /** GitHub and GitLab list at most 20 commits per push; a longer push may have changed paths we do not see. */
  private static final int LISTED_COMMITS_LIMIT = 20;

  private WebhookParser() {}

  public static Outcome parse(Provider provider, byte[] secret, WebhookRequest request) {
    String type = request.mediaType();
    boolean form = type.equals("application/x-www-form-urlencoded");
    if (!type.equals("application/json") && !(form && provider != Provider.GITLAB)) {
      return new Rejected(415, "content type \"" + type + "\" is not accepted; expected application/json"
          + (provider == Provider.GITLAB ? "" : " or application/x-www-form-urlencoded"));
    }
    Optional<Rejected> unsigned = verify(provider, secret, request);
    if (unsigned.isPresent()) return unsigned.get();

    String event = switch (provider) {
      case GITHUB -> request.header("X-GitHub-Event").orElse("");
      case GITLAB -> request.header("X-Gitlab-Event").orElse("");
      case GITEA -> request.header("X-Gitea-Event").orElse("");
      case GENERIC -> "push";
    };
    if (event.equals("ping")) return new Acknowledged("ping");
    boolean isPush = provider == Provider.GITLAB ? event.equals("Push Hook") : event.equals("push");
    if (!isPush) return new Acknowledged("event \"" + event + "\" ignored; only pushes trigger a sync");

    JsonObject payload;
    try {
      String text = new String(request.body(), StandardCharsets.UTF_8);
      payload = new JsonObject(form ? formPayload(text) : text);
    } catch (DecodeException | IllegalArgumentException e) {
      return new Rejected(400, "body is not valid JSON: " + e.getMessage());
    }
    String ref = payload.getString("ref");
    String after = payload.getString("after", payload.getString("checkout_sha"));
    if (ref == null || after == null) {
      return new Rejected(400, "push payload has no \"ref\" or \"after\"");
    }
    return new Push(new PushEvent(ref, Optional.ofNullable(payload.getString("before")), after, changedPaths(payload)));
  }

  private static Optional<Rejected> verify(Provider provider, byte[] secret, WebhookRequest request) {
    boolean valid = switch (provider) {
      case GITHUB -> request.header("X-Hub-Signature-256").filter(s -> s.startsWith("sha256="))
          .map(s -> Signatures.validHmac(secret, request.body(), s.substring(7))).orElse(false);
      case GITLAB -> Signatures.sameToken(secret, request.header("X-Gitlab-Token").orElse(null));
      case GITEA -> request.header("X-Gitea-Signature")
          .map(s -> Signatures.validHmac(secret, request.body(), s)).orElse(false);
      case GENERIC -> request.header("X-Signature").filter(s -> s.startsWith("sha256="))
          .map(s -> Signatures.validHmac(secret, request.body(), s.substring(7))).orElse(false);
    };
    return valid ? Optional.empty() : Optional.of(new Rejected(401, "missing or wrong signature"));
  }

  private static String formPayload(String form) {
    for (String pair : form.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).equals("payload")) {
        return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    throw new IllegalArgumentException("form body has no payload= field");
  }

  /** Paths the push's commits touched, when the payload lists all of them. */
  private static Optional<Set<String>> changedPaths(JsonObject payload) {
    JsonArray commits = payload.getJsonArray("commits");
    if (payload.containsKey("paths")) {
      JsonArray paths = payload.getJsonArray("paths");
      Set<String> listed = new HashSet<>();
      paths.forEach(p -> listed.add(String.valueOf(p)));
      return Optional.of(listed);
    }
    if (commits == null || commits.isEmpty() || commits.size() >= LISTED_COMMITS_LIMIT) return Optional.empty();
    Integer total = payload.getInteger("total_commits_count");
    if (total != null && total > commits.size()) return Optional.empty();
    Set<String> paths = new HashSet<>();
    for (Object item : commits) {
      if (!(item instanceof JsonObject commit)) return Optional.empty();
      for (String key : new String[] {"added", "modified", "removed"}) {
        JsonArray list = commit.getJsonArray(key);
        if (list == null) return Optional.empty();
        list.forEach(p -> paths.add(String.valueOf(p)));
      }
    }
    return Optional.of(paths);
  }
}
