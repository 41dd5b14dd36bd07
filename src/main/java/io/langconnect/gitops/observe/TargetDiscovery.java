package io.langconnect.gitops.observe;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.render.Labels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds what to observe from what is deployed, not from git: every PostgreSQL Deployment this controller
 * manages, with the user, database and Secret its pod template names. So every replica (leader or not)
 * observes the same databases, and a database keeps being observed while git is unreachable. Per-environment
 * overrides from the config replace host, port, credentials or the LangConnect URL. Blocking.
 */
public final class TargetDiscovery {

  private static final Logger LOG = LoggerFactory.getLogger(TargetDiscovery.class);

  private final KubernetesClient client;
  private final Map<String, ControllerConfig.DatabaseEndpoint> overrides;

  public TargetDiscovery(KubernetesClient client, Map<String, ControllerConfig.DatabaseEndpoint> overrides) {
    this.client = client;
    this.overrides = overrides;
  }

  public List<DatabaseTarget> discover() {
    List<DatabaseTarget> targets = new ArrayList<>();
    List<Deployment> databases = client.apps().deployments().inAnyNamespace()
        .withLabel(Labels.MANAGED_BY, Labels.MANAGER).withLabel(Labels.COMPONENT, Labels.POSTGRES).list().getItems();
    for (Deployment deployment : databases) {
      try {
        targets.add(target(deployment));
      } catch (RuntimeException e) {
        LOG.warn("cannot observe {}/{}: {}", deployment.getMetadata().getNamespace(), deployment.getMetadata().getName(),
            e.getMessage());
      }
    }
    return targets;
  }

  private DatabaseTarget target(Deployment deployment) {
    Map<String, String> labels = deployment.getMetadata().getLabels();
    String environment = labels.get(Labels.ENVIRONMENT);
    String release = labels.get(Labels.INSTANCE);
    String namespace = deployment.getMetadata().getNamespace();
    Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    String user = literal(container, "POSTGRES_USER").orElse("postgres");
    String database = literal(container, "POSTGRES_DB").orElse(user);
    Service service = client.services().inNamespace(namespace).withName(deployment.getMetadata().getName()).get();
    int port = service == null ? 5432 : service.getSpec().getPorts().get(0).getPort();
    ControllerConfig.DatabaseEndpoint override = overrides.get(environment);
    Optional<String> password = override != null && override.passwordFile() != null
        ? Optional.of(readFile(override.passwordFile()))
        : secretPassword(container, namespace);
    String host = release + "-postgres." + namespace + ".svc";
    String langconnectUrl = "http://" + release + "-langconnect." + namespace + ".svc:8080/health";
    return new DatabaseTarget(environment, namespace, release,
        override != null && override.host() != null ? override.host() : host,
        override != null && override.port() != null ? override.port() : port,
        override != null && override.database() != null ? override.database() : database,
        override != null && override.username() != null ? override.username() : user,
        password,
        override != null && Boolean.TRUE.equals(override.ssl()),
        override != null && override.langconnectUrl() != null ? override.langconnectUrl() : langconnectUrl);
  }

  private static Optional<String> literal(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).filter(v -> v != null)
        .findFirst();
  }

  private Optional<String> secretPassword(Container container, String namespace) {
    return container.getEnv().stream().filter(e -> e.getName().equals("POSTGRES_PASSWORD"))
        .filter(e -> e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null)
        .findFirst()
        .flatMap(e -> {
          Secret secret = client.secrets().inNamespace(namespace).withName(e.getValueFrom().getSecretKeyRef().getName()).get();
          String value = secret == null || secret.getData() == null ? null
              : secret.getData().get(e.getValueFrom().getSecretKeyRef().getKey());
          return Optional.ofNullable(value).map(v -> new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8));
        });
  }

  private static String readFile(String file) {
    try {
      return Files.readString(Path.of(file)).strip();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
