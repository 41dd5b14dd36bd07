package io.langconnect.gitops.cluster;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.vertx5.Vertx5HttpClientFactory;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.File;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The cluster as kubectl finds it: {@code --kubeconfig}, then {@code KUBECONFIG}, {@code ~/.kube/config}, in-cluster. */
public final class KubernetesClients {

  private KubernetesClients() {}

  public static KubernetesClient create(Optional<String> kubeconfig, Duration requestTimeout) {
    Config base = kubeconfig.map(path -> Config.fromKubeconfig(new File(path))).orElseGet(() -> Config.autoConfigure(null));
    return create(base, requestTimeout);
  }

  /** A client for {@code base}, with the controller's timeouts and without fabric8's own retries. */
  public static KubernetesClient create(Config base, Duration requestTimeout) {
    Config config = new ConfigBuilder(base)
        .withRequestTimeout((int) requestTimeout.toMillis())
        // Retries are ours (apply.Retry): one policy, visible in one place.
        .withRequestRetryBackoffLimit(0)
        .build();
    return new KubernetesClientBuilder().withConfig(config).withHttpClientFactory(new ReadBoundedFactory(requestTimeout))
        .build();
  }

  /**
   * fabric8's request timeout ends at the reply's headers: a reply that stops mid-body (a connection the network
   * dropped without a reset) would hold the calling thread forever. A connection that reads nothing for the
   * request timeout is closed, and the call fails like any other. Watches are WebSockets with their own options.
   */
  private static final class ReadBoundedFactory extends Vertx5HttpClientFactory {
    private final Duration readIdle;

    ReadBoundedFactory(Duration readIdle) {
      this.readIdle = readIdle;
    }

    @Override
    protected void additionalConfig(WebClientOptions options, WebSocketClientOptions webSockets, PoolOptions pool) {
      options.setIdleTimeoutUnit(TimeUnit.MILLISECONDS).setReadIdleTimeout((int) readIdle.toMillis());
    }
  }
}
