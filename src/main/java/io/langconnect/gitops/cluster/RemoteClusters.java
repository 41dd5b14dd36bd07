package io.langconnect.gitops.cluster;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.OAuthTokenProvider;
import io.langconnect.gitops.config.ControllerConfig.ClusterEndpoint;
import io.langconnect.gitops.config.ControllerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Clients of the clusters the config's {@code clusters:} names, made from their kubeconfig: a file, or a Secret in
 * the state namespace (key {@value ClusterEndpoint#SECRET_KEY}). The bearer token is read from there again at most
 * every {@link #TOKEN_REREAD}, so a rotated token (a new bound token written by {@code cluster add}) needs no restart.
 */
public final class RemoteClusters {

  static final Duration TOKEN_REREAD = Duration.ofSeconds(30);

  private RemoteClusters() {}

  /** A client of {@code name}, as the config's {@code clusters:} describes it; {@code home} reads its Secret. */
  public static KubernetesClient connect(String name, ControllerConfig config, KubernetesClient home) {
    return connect(name, config.clusters().get(name), home, config.kubernetes().stateNamespace(),
        config.kubernetes().requestTimeout());
  }

  private static KubernetesClient connect(String name, ClusterEndpoint endpoint, KubernetesClient home,
                                          String stateNamespace, Duration requestTimeout) {
    Supplier<String> kubeconfig = endpoint.kubeconfigFile() != null
        ? () -> readFile(name, endpoint.kubeconfigFile())
        : () -> readSecret(name, home, stateNamespace, endpoint.kubeconfigSecret());
    Config config = parse(name, kubeconfig.get());
    if (config.getAutoOAuthToken() != null || config.getOauthToken() != null) {
      config = new ConfigBuilder(config).withOauthTokenProvider(new RereadToken(name, kubeconfig, config,
          Clock.systemUTC())).build();
    }
    return KubernetesClients.create(config, requestTimeout);
  }

  private static Config parse(String name, String kubeconfig) {
    try {
      return Config.fromKubeconfig(kubeconfig);
    } catch (RuntimeException e) {
      throw new Clusters.UnavailableException("cluster " + name + ": its kubeconfig cannot be read as one ("
          + e.getMessage() + ")", e);
    }
  }

  private static String token(Config config) {
    return config.getOauthToken() != null ? config.getOauthToken() : config.getAutoOAuthToken();
  }

  private static String readFile(String name, String file) {
    try {
      return Files.readString(Path.of(file));
    } catch (IOException e) {
      throw new Clusters.UnavailableException("cluster " + name + ": clusters." + name + ".kubeconfigFile " + file
          + " cannot be read (" + e.getClass().getSimpleName() + ")", e);
    }
  }

  private static String readSecret(String name, KubernetesClient home, String namespace, String secret) {
    Secret found = home.secrets().inNamespace(namespace).withName(secret).get();
    String encoded = Optional.ofNullable(found).map(Secret::getData).map(d -> d.get(ClusterEndpoint.SECRET_KEY))
        .orElse(null);
    if (encoded == null) {
      throw new Clusters.UnavailableException("cluster " + name + ": Secret " + namespace + "/" + secret
          + (found == null ? " does not exist" : " has no key " + ClusterEndpoint.SECRET_KEY)
          + "; expected a kubeconfig under key " + ClusterEndpoint.SECRET_KEY + " (`langconnect-gitops cluster add`"
          + " writes it)", null);
    }
    return new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
  }

  /**
   * The kubeconfig's token, read again when older than {@link #TOKEN_REREAD}; the last good one while it cannot be.
   * A kubeconfig that now names another server or CA is not followed (the client is built once): that is said once.
   */
  static final class RereadToken implements OAuthTokenProvider {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RemoteClusters.class);
    private final String cluster;
    private final Supplier<String> kubeconfig;
    private final Clock clock;
    private final String server;
    private final String endpoint;
    private String token;
    private Instant readAt;
    private String reportedEndpoint;

    RereadToken(String cluster, Supplier<String> kubeconfig, Config first, Clock clock) {
      this.cluster = cluster;
      this.kubeconfig = kubeconfig;
      this.clock = clock;
      this.server = first.getMasterUrl();
      this.endpoint = endpoint(first);
      this.reportedEndpoint = endpoint;
      this.token = token(first);
      this.readAt = clock.instant();
    }

    @Override
    public synchronized String getToken() {
      if (clock.instant().isAfter(readAt.plus(TOKEN_REREAD))) {
        readAt = clock.instant();
        try {
          Config fresh = parse(cluster, kubeconfig.get());
          String rotated = token(fresh);
          if (rotated != null) token = rotated;
          String now = endpoint(fresh);
          if (!now.equals(reportedEndpoint)) {
            reportedEndpoint = now;
            if (now.equals(endpoint)) {
              LOG.info("cluster {}: its kubeconfig names the server and CA in use again", cluster);
            } else {
              LOG.warn("cluster {}: its kubeconfig now names another server or CA ({}); the controller keeps using {}"
                  + " until it is restarted", cluster, fresh.getMasterUrl(), server);
            }
          }
        } catch (RuntimeException e) {
          LOG.warn("cluster {}: cannot read its kubeconfig again ({}); keeping the token read before", cluster,
              e.getMessage());
        }
      }
      return token;
    }

    /** What the client was built with besides the token: the server and the CA it trusts. */
    private static String endpoint(Config config) {
      return config.getMasterUrl() + " " + Objects.toString(config.getCaCertData(), "") + " "
          + Objects.toString(config.getCaCertFile(), "");
    }
  }
}
