package io.langconnect.gitops.observe;

import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.NamespaceAccess;
import io.langconnect.gitops.apply.WorkloadCache;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.langconnect.gitops.apply.Workloads;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.render.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds what to observe from what is deployed, not from git: every PostgreSQL StatefulSet (or Deployment) this controller
 * manages, with the user, database and Secret its pod template names. So every replica (leader or not)
 * observes the same databases, and a database keeps being observed while git is unreachable. Per-environment
 * overrides from the config replace host, port, credentials or the LangConnect URL. Deployments and Services come
 * from the watch-fed cache; a target is worked out again (reading its Secret) only when its Deployment or
 * Services changed, or when asked because its database turned the password down. Blocking.
 */
final class TargetDiscovery {

  private static final Logger LOG = LoggerFactory.getLogger(TargetDiscovery.class);
  private static final String CLOUDNATIVE_PG = io.langconnect.gitops.values.EnvironmentValues.Engine.CLOUDNATIVE_PG.key();

  /** A target and the versions of the objects it was worked out from (generation, resourceVersions). */
  private record Resolved(String versions, DatabaseTarget target) {}

  private final KubernetesClient client;
  private final WorkloadCache cache;
  private final Map<String, ControllerConfig.DatabaseEndpoint> overrides;
  private final Map<String, Resolved> resolved = new ConcurrentHashMap<>();
  private final NamespaceAccess access;
  private final String cluster;
  private final Placements placements;

  /** Where an environment's inventory places it (cluster, namespace), if it has one. Blocking. */
  interface Placements {
    Optional<Inventory> of(String environment);
  }

  /** A workload that carries an environment's labels where its inventory does not place it: not that environment. */
  static final class NotBoundException extends RuntimeException {
    NotBoundException(String message) {
      super(message);
    }
  }

  /**
   * {@code cluster} is the one {@code client} reaches; {@code placements} tie the configured credentials of
   * {@code databases.<env>} to the namespace and cluster the environment's inventory records, and to no look-alike.
   */
  TargetDiscovery(KubernetesClient client, String cluster, WorkloadCache cache,
                  Map<String, ControllerConfig.DatabaseEndpoint> overrides, Placements placements) {
    this.client = client;
    this.cluster = cluster;
    this.placements = placements;
    this.access = new NamespaceAccess(client);
    this.cache = cache;
    this.overrides = overrides;
  }

  /** Every observed database; empty until the cache has listed once. */
  List<DatabaseTarget> discover() {
    if (!cache.synced()) return List.of();
    List<DatabaseTarget> targets = new ArrayList<>();
    Map<String, Resolved> seen = new HashMap<>();
    List<HasMetadata> observed = new ArrayList<>(cache.databases());
    observed.addAll(cache.externalDatabaseClients());
    for (HasMetadata deployment : observed) {
      String uid = deployment.getMetadata().getUid();
      String versions = versions(deployment);
      Resolved known = resolved.get(uid);
      try {
        Resolved now = known != null && known.versions().equals(versions) ? known : new Resolved(versions, target(deployment));
        seen.put(uid, now);
        targets.add(now.target());
      } catch (NamespaceAccess.NotManagedException | NotBoundException e) {
        // Our labels on a workload in a namespace that is not ours: a look-alike is not handed a password.
        LOG.debug("not observing {}/{}: {}", deployment.getMetadata().getNamespace(), deployment.getMetadata().getName(),
            e.getMessage());
      } catch (RuntimeException e) {
        LOG.warn("cannot observe {}/{}: {}", deployment.getMetadata().getNamespace(), deployment.getMetadata().getName(),
            e.getMessage());
      }
    }
    resolved.keySet().retainAll(seen.keySet());
    resolved.putAll(seen);
    return targets;
  }

  /** The next discovery works {@code target} out again (a rotated Secret is read anew). */
  void refresh(DatabaseTarget target) {
    resolved.values().removeIf(r -> r.target().key().equals(target.key()));
  }

  private String versions(HasMetadata deployment) {
    Names names = new Names(deployment.getMetadata().getLabels().get(Labels.INSTANCE));
    String ns = deployment.getMetadata().getNamespace();
    // The workload's generation, not its resourceVersion: its status moves all the time, its spec rarely.
    return deployment.getMetadata().getGeneration() + "/" + cache.service(ns, names.postgres())
        .map(s -> s.getMetadata().getResourceVersion()).orElse("-") + "/" + cache.service(ns, names.langconnect())
        .map(s -> s.getMetadata().getResourceVersion()).orElse("-");
  }

  /**
   * The database a workload names: a bundled database's own pod template, or, for an external database, the
   * variables of the LangConnect Deployment that connects to it (host, port, TLS and CA included).
   */
  private DatabaseTarget target(HasMetadata workload) {
    Map<String, String> labels = workload.getMetadata().getLabels();
    String environment = labels.get(Labels.ENVIRONMENT);
    String release = labels.get(Labels.INSTANCE);
    String namespace = workload.getMetadata().getNamespace();
    boolean viaClient = Labels.LANGCONNECT.equals(labels.get(Labels.COMPONENT)); // no database workload of ours
    Container container = Workloads.podSpec(workload).getContainers().get(0);
    String user = literal(container, "POSTGRES_USER").orElse("postgres");
    String database = literal(container, "POSTGRES_DB").orElse(user);
    Names names = new Names(release);
    int port = viaClient ? literal(container, "POSTGRES_PORT").map(Integer::parseInt).orElse(5432)
        : cache.service(namespace, names.postgres()).map(s -> s.getSpec().getPorts().get(0).getPort()).orElse(5432);
    String named = literal(container, "POSTGRES_HOST").orElse(names.postgres());
    // An external host as written; a Service of the namespace (CloudNativePG's -rw) by an address any namespace reaches.
    String host = viaClient && !CLOUDNATIVE_PG.equals(workload.getMetadata().getAnnotations().get(Labels.ENGINE_ANNOTATION))
        ? named : address(namespace, named);
    ControllerConfig.DatabaseEndpoint override = overrides.get(environment);
    if (override != null) bound(environment, namespace);
    Optional<String> password = override != null && override.passwordFile() != null
        ? Optional.of(readFile(override.passwordFile()))
        : secretPassword(container, namespace);
    String sslMode = override != null && override.ssl() != null ? (override.ssl() ? "require" : "disable")
        : literal(container, "PGSSLMODE").orElse("disable");
    Optional<String> caPem = viaClient ? caPem(workload, namespace) : Optional.empty();
    // The port is a value (langconnect.service.port): read from the Service, as the database's is.
    int appPort = cache.service(namespace, names.langconnect()).map(s -> s.getSpec().getPorts().get(0).getPort()).orElse(8080);
    String langconnectUrl = "http://" + address(namespace, names.langconnect()) + ":" + appPort + "/health";
    return new DatabaseTarget(environment, namespace, release,
        override != null && override.host() != null ? override.host() : host,
        override != null && override.port() != null ? override.port() : port,
        override != null && override.database() != null ? override.database() : database,
        override != null && override.username() != null ? override.username() : user,
        password, sslMode, caPem,
        override != null && override.langconnectUrl() != null ? override.langconnectUrl() : langconnectUrl);
  }

  /** The CA an external database's clients verify it with: the Secret behind their CA volume, if they mount one. */
  private Optional<String> caPem(HasMetadata workload, String namespace) {
    return Workloads.podSpec(workload).getVolumes().stream()
        .filter(v -> v.getSecret() != null && v.getName().equals(Labels.DATABASE_CA_VOLUME))
        .findFirst()
        .flatMap(v -> secretValue(namespace, v.getSecret().getSecretName(), "ca.crt"));
  }

  /** Configured credentials go only to the environment where its inventory places it: else NotBoundException. */
  private void bound(String environment, String namespace) {
    Optional<Inventory> placed = placements.of(environment);
    if (placed.isPresent() && placed.get().cluster().equals(cluster) && placed.get().namespace().equals(namespace)) return;
    throw new NotBoundException("databases." + environment + " is configured for the environment its inventory places "
        + placed.map(p -> "in " + p.namespace() + " on cluster " + p.cluster()).orElse("nowhere yet")
        + ", not for this workload in " + namespace + " on cluster " + cluster + " that carries its labels");
  }

  /**
   * The Service's cluster IP, as the cache has it: no DNS lookup per database every cycle (with a thousand
   * environments, thousands a minute). Its DNS name for a headless Service, or one not seen yet.
   */
  private String address(String namespace, String service) {
    return cache.service(namespace, service).map(s -> s.getSpec().getClusterIP())
        .filter(ip -> !ip.isEmpty() && !ip.equals("None"))
        .orElse(service + "." + namespace + ".svc");
  }

  private static Optional<String> literal(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).filter(v -> v != null)
        .findFirst();
  }

  private Optional<String> secretPassword(Container container, String namespace) {
    return container.getEnv().stream().filter(e -> e.getName().equals("POSTGRES_PASSWORD"))
        .filter(e -> e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null)
        .findFirst()
        .flatMap(e -> secretValue(namespace, e.getValueFrom().getSecretKeyRef().getName(),
            e.getValueFrom().getSecretKeyRef().getKey()));
  }

  /** One key of a Secret in a namespace of ours, decoded; empty when the namespace, Secret or key is not there. */
  private Optional<String> secretValue(String namespace, String name, String key) {
    if (!access.grant(namespace)) return Optional.empty();
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
    return Optional.ofNullable(secret == null || secret.getData() == null ? null : secret.getData().get(key))
        .map(v -> new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8));
  }

  private static String readFile(String file) {
    try {
      return Files.readString(Path.of(file)).strip();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
