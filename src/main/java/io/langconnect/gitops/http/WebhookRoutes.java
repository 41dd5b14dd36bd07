package io.langconnect.gitops.http;

import io.langconnect.gitops.config.ConfigLoader;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.status.SyncMetrics;
import io.langconnect.gitops.webhook.AffectedEnvironments;
import io.langconnect.gitops.webhook.Provider;
import io.langconnect.gitops.webhook.PushEvent;
import io.langconnect.gitops.webhook.WebhookParser;
import io.langconnect.gitops.webhook.WebhookRequest;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /webhook/{github,gitlab,gitea,generic}}: verify, read, and turn a push to the watched branch
 * into a poll request naming the environments it changed. Answers as soon as the work is queued; never
 * waits for the sync.
 */
public final class WebhookRoutes {

  private static final Logger LOG = LoggerFactory.getLogger(WebhookRoutes.class);

  private static final java.util.List<String> OUTCOMES =
      java.util.List.of("queued", "handed-off", "unavailable", "ignored", "ping", "other-branch", "unauthorized", "unsupported-media-type", "malformed");

  private final Map<Provider, byte[]> secrets;
  private final String branch;
  private final String pathPrefix;
  private final int maxBodyBytes;
  private final SyncMetrics metrics;
  private final PollQueue queue;

  /** Where a push goes: polled here ("queued"), or handed to the replica that leads ("handed-off"). */
  public interface PollQueue {
    Future<String> submit(JsonObject pollRequest);
  }

  public WebhookRoutes(Map<Provider, byte[]> secrets, String branch, String pathPrefix, int maxBodyBytes,
                       SyncMetrics metrics, PollQueue queue) {
    this.secrets = Map.copyOf(secrets);
    this.branch = branch;
    this.pathPrefix = pathPrefix;
    this.maxBodyBytes = maxBodyBytes;
    this.metrics = metrics;
    this.queue = queue;
    // The outcomes of an enabled provider exist at 0 before its first delivery.
    this.secrets.keySet().forEach(provider -> OUTCOMES.forEach(outcome -> metrics.webhookKnown(provider.path(), outcome)));
  }

  /** Reads each provider's secret from its file or environment variable; a provider without one is off. */
  public static Map<Provider, byte[]> secrets(ControllerConfig.Webhooks config, Map<String, String> environment) {
    Map<Provider, ControllerConfig.WebhookSecret> configured = new EnumMap<>(Provider.class);
    if (config.github() != null) configured.put(Provider.GITHUB, config.github());
    if (config.gitlab() != null) configured.put(Provider.GITLAB, config.gitlab());
    if (config.gitea() != null) configured.put(Provider.GITEA, config.gitea());
    if (config.generic() != null) configured.put(Provider.GENERIC, config.generic());
    Map<Provider, byte[]> secrets = new EnumMap<>(Provider.class);
    configured.forEach((provider, secret) -> {
      String value = null;
      if (secret.secretFile() != null) {
        try {
          value = Files.readString(Path.of(secret.secretFile())).strip();
        } catch (IOException e) {
          throw new ConfigLoader.ConfigException("webhooks." + provider.path() + ".secretFile: cannot read "
              + secret.secretFile() + " (" + e.getClass().getSimpleName() + "); expected a file holding the secret");
        }
      } else if (secret.secretEnv() != null) {
        value = environment.get(secret.secretEnv());
      }
      if (value != null && !value.isEmpty()) secrets.put(provider, value.getBytes(StandardCharsets.UTF_8));
    });
    return secrets;
  }

  void mount(Router router) {
    router.post("/webhook/:provider")
        .handler(BodyHandler.create(false).setBodyLimit(maxBodyBytes).setHandleFileUploads(false))
        .handler(this::handle);
  }

  private void handle(RoutingContext ctx) {
    String path = ctx.pathParam("provider");
    Optional<Provider> provider = Provider.byPath(path);
    if (provider.isEmpty() || !secrets.containsKey(provider.get())) {
      metrics.webhook(path, provider.isEmpty() ? "unknown-provider" : "disabled");
      reply(ctx, 404, provider.isEmpty() ? "no webhook provider \"" + path + "\"; expected github, gitlab, gitea or generic"
          : "the " + path + " webhook is off: configure webhooks." + path + ".secretFile or secretEnv");
      return;
    }
    Map<String, String> headers = new HashMap<>();
    ctx.request().headers().forEach(h -> headers.put(h.getKey(), h.getValue()));
    WebhookRequest request = new WebhookRequest(headers, ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes());
    String delivery = request.header(provider.get().deliveryHeader()).orElse("-");
    WebhookParser.Outcome outcome = WebhookParser.parse(provider.get(), secrets.get(provider.get()), request);
    if (outcome instanceof WebhookParser.Rejected rejected) {
      LOG.warn("webhook {} delivery {}: rejected ({}): {}", path, delivery, rejected.status(), rejected.reason());
      metrics.webhook(path, rejected.status() == 401 ? "unauthorized" : rejected.status() == 415 ? "unsupported-media-type" : "malformed");
      reply(ctx, rejected.status(), rejected.reason());
    } else if (outcome instanceof WebhookParser.Acknowledged ack) {
      LOG.info("webhook {} delivery {}: {}", path, delivery, ack.reason());
      metrics.webhook(path, ack.reason().equals("ping") ? "ping" : "ignored");
      reply(ctx, 200, ack.reason());
    } else {
      PushEvent push = ((WebhookParser.Push) outcome).event();
      if (!push.isBranch(branch)) {
        LOG.info("webhook {} delivery {}: push to {} ignored (watching {})", path, delivery, push.ref(), branch);
        metrics.webhook(path, "other-branch");
        reply(ctx, 200, "push to " + push.ref() + " ignored; watching refs/heads/" + branch);
        return;
      }
      Optional<Set<String>> environments = AffectedEnvironments.of(push.changedPaths(), pathPrefix);
      JsonArray targets = environments.map(envs -> new JsonArray(envs.stream().sorted().toList())).orElse(null);
      JsonObject pollRequest = new JsonObject().put("after", push.after()).put("before", push.before().orElse(null))
          .put("receivedAt", System.currentTimeMillis())
          .put("environments", targets);
      String where = environments.map(Object::toString).orElse("every environment");
      queue.submit(pollRequest).onSuccess(queued -> {
        LOG.info("webhook {} delivery {}: push {} {} for {}", path, delivery, push.after(), queued, where);
        metrics.webhook(path, queued);
        ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json").end(new JsonObject()
            .put("status", queued).put("after", push.after())
            .put("environments", targets)
            .encode());
      }).onFailure(e -> {
        LOG.warn("webhook {} delivery {}: push {} could not reach the leader: {}", path, delivery, push.after(), e.getMessage());
        metrics.webhook(path, "unavailable");
        reply(ctx, 503, "this replica is not the leader and could not hand the push over (" + e.getMessage()
            + "); the next poll picks it up");
      });
    }
  }

  private static void reply(RoutingContext ctx, int status, String message) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put(status < 400 ? "status" : "error", message).encode());
  }
}
