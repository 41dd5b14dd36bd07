package io.langconnect.gitops.notify;

import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.webhook.Signatures;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * The body a notification webhook receives for an event: generic JSON (as Flux's generic provider sends, with the
 * environment's own fields), or a Slack incoming-webhook message. What it holds comes from the environment's
 * status, which never carries a secret's value. Pure.
 */
public final class WebhookPayload {

  /** Flux's generic-hmac header: the body's HMAC-SHA256 under the webhook's secret. */
  public static final String SIGNATURE_HEADER = "X-Signature";

  private WebhookPayload() {}

  public static JsonObject generic(Transition.Event event, Instant at) {
    EnvironmentStatus status = event.status();
    return new JsonObject()
        .put("event", event.name())
        .put("environment", status.name())
        .put("cluster", status.cluster())
        .put("namespace", status.namespace())
        .put("revision", status.revision())
        .put("reason", reason(status))
        .put("message", message(status))
        .put("timestamp", at.toString())
        .put("reportingController", "langconnect-gitops");
  }

  public static JsonObject slack(Transition.Event event) {
    EnvironmentStatus status = event.status();
    String title = "langconnect-gitops: " + status.name() + " " + event.name();
    String text = "*" + title + "*\n" + message(status) + "\nrevision " + shortRevision(status.revision())
        + ", cluster " + status.cluster() + ", namespace " + status.namespace();
    return new JsonObject().put("text", text).put("attachments", new JsonArray().add(new JsonObject()
        .put("color", event.name().equals("recovered") ? "good" : "danger")
        .put("fields", new JsonArray()
            .add(field("environment", status.name()))
            .add(field("reason", reason(status)))
            .add(field("revision", shortRevision(status.revision()))))));
  }

  public static String signature(byte[] secret, String body) {
    return "sha256=" + Signatures.hmacSha256Hex(secret, body.getBytes(StandardCharsets.UTF_8));
  }

  /** Flux's reasons, as a condition's reason names it: the result, or the health when it synced. */
  private static String reason(EnvironmentStatus status) {
    return status.result() == EnvironmentStatus.Result.SYNCED
        ? (status.health().ready() ? "Ready" : capitalized(status.health().state().name()))
        : status.result().label();
  }

  private static String message(EnvironmentStatus status) {
    return status.result() == EnvironmentStatus.Result.SYNCED ? status.health().message() : status.message();
  }

  private static String capitalized(String name) {
    return name.charAt(0) + name.substring(1).toLowerCase();
  }

  private static String shortRevision(String revision) {
    return revision == null ? "" : revision.length() > 12 ? revision.substring(0, 12) : revision;
  }

  private static JsonObject field(String title, String value) {
    return new JsonObject().put("title", title).put("value", value).put("short", true);
  }
}
