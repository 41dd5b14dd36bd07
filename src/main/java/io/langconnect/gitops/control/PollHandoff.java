package io.langconnect.gitops.control;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.langconnect.gitops.sync.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Webhooks reach every replica through the Service, but only the leader polls. A standby hands a push to the
 * leader by writing it to a ConfigMap in the state namespace; the leader watches that ConfigMap and queues what
 * it reads as if the push had come to itself.
 */
public final class PollHandoff {

  private static final Logger LOG = LoggerFactory.getLogger(PollHandoff.class);
  private static final String KEY = "request.json";
  private static final String MANAGER = "langconnect-gitops-handoff";

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private volatile ReopeningWatch current;

  public PollHandoff(KubernetesClient client, String namespace, String leaseName) {
    this.client = client;
    this.namespace = namespace;
    this.name = leaseName + "-webhook";
  }

  /** Blocking: records the request for the leader. */
  public void forward(JsonObject request) {
    ConfigMap handoff = new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace(namespace)
        .withLabels(Map.of("app.kubernetes.io/managed-by", "langconnect-gitops")).endMetadata()
        .withData(Map.of(KEY, request.encode())).build();
    client.resource(handoff).fieldManager(MANAGER).forceConflicts().serverSideApply();
  }

  /**
   * Leader side: publishes each request written after this call on {@link Addresses#POLL_REQUESTED} until
   * {@link #stopWatching()}. Blocking.
   */
  public void startWatching(Vertx vertx) {
    ReopeningWatch watch = new ReopeningWatch("webhook hand-off",
        client.configMaps().inNamespace(namespace).withField("metadata.name", name),
        (action, configMap) -> {
          String json = configMap.getData() == null ? null : configMap.getData().get(KEY);
          if (json == null || (action != Watcher.Action.ADDED && action != Watcher.Action.MODIFIED)) return;
          try {
            JsonObject request = new JsonObject(json);
            vertx.runOnContext(v -> vertx.eventBus().publish(Addresses.POLL_REQUESTED, request));
          } catch (DecodeException e) {
            LOG.warn("ignoring a malformed webhook hand-off in {}/{}: {}", namespace, name, e.getMessage());
          }
        },
        next -> vertx.setTimer(1_000, id -> vertx.executeBlocking(() -> {
          next.run();
          return null;
        })));
    current = watch;
    watch.start();
  }

  public void stopWatching() {
    ReopeningWatch watch = current;
    current = null;
    if (watch != null) watch.stop();
  }
}
