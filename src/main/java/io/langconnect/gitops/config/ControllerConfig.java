package io.langconnect.gitops.config;

import io.langconnect.gitops.values.NamespacePolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The controller's configuration: one typed record read from a YAML file ({@code config/controller.yaml}
 * is the example), then environment variables ({@code LANGCONNECT_GITOPS_GIT_URL}, ...), then command-line
 * flags, each overriding the one before.
 */
public record ControllerConfig(Git git, Kubernetes kubernetes, Sync sync, Http http, Webhooks webhooks,
                               Observe observe, Map<String, DatabaseEndpoint> databases, Decryption decryption,
                               Map<String, ClusterEndpoint> clusters, Shard shard, Logging logging,
                               Notifications notifications) {

  public ControllerConfig {
    git = git == null ? Git.DEFAULT : git;
    kubernetes = kubernetes == null ? Kubernetes.DEFAULT : kubernetes;
    sync = sync == null ? Sync.DEFAULT : sync;
    http = http == null ? Http.DEFAULT : http;
    webhooks = webhooks == null ? Webhooks.DEFAULT : webhooks;
    observe = observe == null ? Observe.DEFAULT : observe;
    databases = databases == null ? Map.of() : Map.copyOf(databases);
    decryption = decryption == null ? Decryption.DEFAULT : decryption;
    clusters = clusters == null ? Map.of() : Map.copyOf(clusters);
    clusters.forEach(ClusterEndpoint::check);
    shard = shard == null ? Shard.ALL : shard;
    logging = logging == null ? Logging.DEFAULT : logging;
    notifications = notifications == null ? Notifications.NONE : notifications;
    for (String name : shard.clusters()) {
      if (!name.equals(ClusterEndpoint.IN_CLUSTER) && !clusters.containsKey(name)) {
        throw new ConfigLoader.ConfigException("shard.clusters: \"" + name + "\" is not a cluster; expected "
            + ClusterEndpoint.IN_CLUSTER + " or a name under clusters: (" + String.join(", ", new java.util.TreeSet<>(clusters.keySet())) + ")");
      }
    }
  }

  public ControllerConfig(Git git, Kubernetes kubernetes, Sync sync, Http http, Webhooks webhooks, Observe observe,
                          Map<String, DatabaseEndpoint> databases, Decryption decryption) {
    this(git, kubernetes, sync, http, webhooks, observe, databases, decryption, null, null, null, null);
  }

  public static ControllerConfig defaults() {
    return new ControllerConfig(null, null, null, null, null, null, null, null, null, null, null, null);
  }

  /** How the controller logs: {@code text} lines (the default) or {@code json}, one object per line. */
  public record Logging(String format) {
    static final Logging DEFAULT = new Logging(null);

    public Logging {
      format = format == null ? "text" : format;
      if (!format.equals("text") && !format.equals("json")) {
        throw new ConfigLoader.ConfigException("logging.format: \"" + format + "\" is not a log format; expected text"
            + " or json");
      }
    }

    public boolean json() {
      return format.equals("json");
    }
  }

  public ControllerConfig withLogging(Logging logging) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  public ControllerConfig withNotifications(Notifications notifications) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  /**
   * What the controller tells others about its syncs: a commit status per environment on the forge the values come
   * from, and JSON posts to webhooks on transitions. Both off by default; a refusal is logged and counted, never
   * fails a sync.
   */
  public record Notifications(CommitStatus commitStatus, List<NotificationWebhook> webhooks) {
    static final Notifications NONE = new Notifications(null, null);

    public Notifications {
      webhooks = webhooks == null ? List.of() : List.copyOf(webhooks);
      java.util.Set<String> names = new java.util.HashSet<>();
      for (int i = 0; i < webhooks.size(); i++) {
        NotificationWebhook webhook = webhooks.get(i);
        if (webhook == null) throw new ConfigLoader.ConfigException("notifications.webhooks[" + i + "]: expected a mapping with url:");
        if (!names.add(webhook.name())) {
          throw new ConfigLoader.ConfigException("notifications.webhooks[" + i + "].name: \"" + webhook.name()
              + "\" is used twice; expected a name of its own for each webhook");
        }
      }
    }
  }

  /**
   * Commit statuses, as Flux's notification-controller posts them: {@code provider} github, gitlab or gitea;
   * {@code url} the forge's address (github: https://api.github.com, gitlab: https://gitlab.com by default);
   * {@code repository} owner/name (the path of git.url by default); the token read from {@code tokenFile} at each post.
   */
  public record CommitStatus(String provider, String url, String tokenFile, String repository) {
    public static final List<String> PROVIDERS = List.of("github", "gitlab", "gitea");

    public CommitStatus {
      if (provider == null || !PROVIDERS.contains(provider)) {
        throw new ConfigLoader.ConfigException("notifications.commitStatus.provider: \"" + provider + "\" is not a forge;"
            + " expected github, gitlab or gitea");
      }
      if (tokenFile == null || tokenFile.isBlank()) {
        throw new ConfigLoader.ConfigException("notifications.commitStatus.tokenFile: missing; expected the path of a file"
            + " holding the forge's API token (a mounted Secret)");
      }
      if (url == null || url.isBlank()) {
        url = switch (provider) {
          case "github" -> "https://api.github.com";
          case "gitlab" -> "https://gitlab.com";
          default -> throw new ConfigLoader.ConfigException("notifications.commitStatus.url: missing; expected the"
              + " address of the Gitea server, e.g. https://gitea.example.com");
        };
      }
      url = url.replaceAll("/+$", "");
      if (!url.startsWith("https://") && !url.startsWith("http://")) {
        throw new ConfigLoader.ConfigException("notifications.commitStatus.url: \"" + url + "\" is not an http(s) address");
      }
    }
  }

  /**
   * A receiver of transitions (failed, degraded, held, recovered): {@code format} generic (JSON) or slack (an incoming
   * webhook); with {@code secretFile}, each body is signed with HMAC-SHA256 in {@code X-Signature: sha256=<hex>}.
   */
  public record NotificationWebhook(String name, String url, String format, String secretFile, List<String> events) {
    public static final List<String> EVENTS = List.of("failed", "degraded", "held", "recovered");

    public NotificationWebhook {
      if (url == null || !(url.startsWith("https://") || url.startsWith("http://"))) {
        throw new ConfigLoader.ConfigException("notifications.webhooks.url: \"" + url + "\" is not an http(s) address");
      }
      name = name == null || name.isBlank() ? java.net.URI.create(url).getHost() : name;
      format = format == null ? "generic" : format;
      if (!format.equals("generic") && !format.equals("slack")) {
        throw new ConfigLoader.ConfigException("notifications.webhooks." + name + ".format: \"" + format + "\" is not a"
            + " format; expected generic or slack");
      }
      events = events == null || events.isEmpty() ? EVENTS : List.copyOf(events);
      for (String event : events) {
        if (!EVENTS.contains(event)) {
          throw new ConfigLoader.ConfigException("notifications.webhooks." + name + ".events: \"" + event + "\" is not an"
              + " event; expected some of " + String.join(", ", EVENTS));
        }
      }
    }
  }

  /** Where the values live and how to reach them. */
  public record Git(String url, String branch, String path, Duration interval, Duration timeout, String workDir,
                    GitAuth auth) {
    static final Git DEFAULT = new Git(null, null, null, null, null, null, null);

    public Git {
      branch = branch == null ? "main" : branch;
      path = path == null ? "." : path;
      interval = interval == null ? Duration.ofSeconds(60) : interval;
      timeout = timeout == null ? Duration.ofSeconds(30) : timeout;
      workDir = workDir == null ? System.getProperty("java.io.tmpdir") + "/langconnect-gitops/repo" : workDir;
      auth = auth == null ? GitAuth.NONE : auth;
    }

    public Optional<String> optionalUrl() {
      return Optional.ofNullable(url).filter(u -> !u.isBlank());
    }
  }

  /** Credentials are always read from files (mounted Secrets), never written in the config itself. */
  public record GitAuth(String tokenFile, String usernameFile, String passwordFile, String sshKeyFile,
                        String knownHostsFile) {
    static final GitAuth NONE = new GitAuth(null, null, null, null, null);
  }

  /**
   * {@code stateNamespace} holds the controller's inventories and its leader-election Lease;
   * {@code allowedNamespaces} (glob patterns, {@code !} refuses, the last match decides) bounds where environments
   * may live: by default everywhere but {@code kube-*}, {@code default} and the state namespace.
   */
  public record Kubernetes(String stateNamespace, String kubeconfig, Boolean leaderElection, String leaseName,
                           Duration requestTimeout, List<String> allowedNamespaces) {
    static final Kubernetes DEFAULT = new Kubernetes(null, null, null, null, null, null);

    public Kubernetes {
      stateNamespace = stateNamespace == null ? NamespacePolicy.DEFAULT_CONTROLLER_NAMESPACE : stateNamespace;
      leaderElection = leaderElection == null ? Boolean.TRUE : leaderElection;
      leaseName = leaseName == null ? "langconnect-gitops" : leaseName;
      requestTimeout = requestTimeout == null ? Duration.ofSeconds(30) : requestTimeout;
      allowedNamespaces = allowedNamespaces == null ? NamespacePolicy.DEFAULT_PATTERNS : List.copyOf(allowedNamespaces);
      new NamespacePolicy(allowedNamespaces, stateNamespace); // refuses a malformed pattern here, naming it
    }

    public Kubernetes(String stateNamespace, String kubeconfig, Boolean leaderElection, String leaseName,
                      Duration requestTimeout) {
      this(stateNamespace, kubeconfig, leaderElection, leaseName, requestTimeout, null);
    }

    public NamespacePolicy namespacePolicy() {
      return new NamespacePolicy(allowedNamespaces, stateNamespace);
    }
  }

  /**
   * {@code healthInterval}: how often an environment that is not Ready is looked at again between syncs;
   * {@code backupTimeout}: how long a backup before a database change may take before the change is held.
   */
  public record Sync(Duration driftInterval, Duration databaseReadyTimeout, Integer parallelism, Integer retries,
                     Duration healthInterval, Duration backupTimeout) {
    static final Sync DEFAULT = new Sync(null, null, null, null);

    public Sync {
      // Drift is seen through watches at once; this full re-check is the safety net (and Secrets' check).
      driftInterval = driftInterval == null ? Duration.ofHours(1) : driftInterval;
      databaseReadyTimeout = databaseReadyTimeout == null ? Duration.ofMinutes(5) : databaseReadyTimeout;
      parallelism = parallelism == null ? 4 : parallelism;
      retries = retries == null ? 5 : retries;
      healthInterval = healthInterval == null ? Duration.ofSeconds(10) : healthInterval;
      backupTimeout = backupTimeout == null ? Duration.ofMinutes(30) : backupTimeout;
    }

    public Sync(Duration driftInterval, Duration databaseReadyTimeout, Integer parallelism, Integer retries) {
      this(driftInterval, databaseReadyTimeout, parallelism, retries, null, null);
    }
  }

  /**
   * {@code apiTokenFile} protects {@code POST /api/v1/environments/{name}/sync}; without it the endpoint is off.
   * {@code idleTimeout}: a connection that sends nothing (a client stalled within a request, or one that only holds
   * it open) for that long is closed, so slow clients cannot use up the controller's connections.
   */
  public record Http(Integer port, String host, String apiTokenFile, Duration idleTimeout) {
    static final Http DEFAULT = new Http(null, null, null, null);

    public Http {
      port = port == null ? 8080 : port;
      host = host == null ? "0.0.0.0" : host;
      idleTimeout = idleTimeout == null ? Duration.ofSeconds(60) : idleTimeout;
      if (idleTimeout.isNegative() || idleTimeout.isZero()) {
        throw new ConfigLoader.ConfigException("http.idleTimeout: " + idleTimeout + " is not a timeout; expected a"
            + " positive duration such as 60s");
      }
    }

    public Http(Integer port, String host, String apiTokenFile) {
      this(port, host, apiTokenFile, null);
    }
  }

  /**
   * Push webhooks. A provider without a secret is off (its endpoint answers 404): nothing is ever accepted
   * unsigned. A push polls at once and pushes during that fetch collapse into one more; {@code debounce} (0 by
   * default) holds the first poll that long instead, for hosts that send many pushes in a row.
   */
  public record Webhooks(WebhookSecret github, WebhookSecret gitlab, WebhookSecret gitea, WebhookSecret generic,
                         Duration debounce, Integer maxBodyBytes) {
    static final Webhooks DEFAULT = new Webhooks(null, null, null, null, null, null);

    public Webhooks {
      debounce = debounce == null ? Duration.ZERO : debounce;
      maxBodyBytes = maxBodyBytes == null ? 1024 * 1024 : maxBodyBytes;
    }
  }

  /** A webhook secret, read from a file (a mounted Secret) or from the environment variable it names. */
  public record WebhookSecret(String secretFile, String secretEnv) {}

  /**
   * The metrics collector: probes and sizes every {@code interval}, exact per-collection counts every
   * {@code countInterval}; each query under {@code queryTimeout}; at most {@code maxCollections} collections
   * per environment get series of their own (largest first), the rest are summed as one.
   */
  public record Observe(Boolean enabled, Duration interval, Duration countInterval, Duration queryTimeout,
                        Integer maxCollections) {
    static final Observe DEFAULT = new Observe(null, null, null, null, null);

    public Observe {
      enabled = enabled == null ? Boolean.TRUE : enabled;
      interval = interval == null ? Duration.ofSeconds(30) : interval;
      countInterval = countInterval == null ? Duration.ofMinutes(5) : countInterval;
      queryTimeout = queryTimeout == null ? Duration.ofSeconds(10) : queryTimeout;
      maxCollections = maxCollections == null ? 50 : maxCollections;
    }
  }

  /**
   * Where the collector reaches an environment's database and LangConnect, when not at their in-cluster
   * Services (an external database, a port-forward, a test). Unset fields keep the in-cluster values.
   */
  public record DatabaseEndpoint(String host, Integer port, String database, String username, String passwordFile,
                                 Boolean ssl, String langconnectUrl) {}

  /**
   * The age keys that open values files encrypted with sops: a key file (as age-keygen writes it) and a Secret in the
   * state namespace, read each time encrypted files are read, so a rotated key needs no restart. Either may be absent.
   */
  public record Decryption(String ageKeyFile, String ageKeySecret) {
    public static final Decryption DEFAULT = new Decryption(null, null);
    /** The Secret's name and key, as Flux names them. */
    public static final String DEFAULT_SECRET = "sops-age";
    public static final String SECRET_KEY = "age.agekey";

    public Decryption {
      ageKeySecret = ageKeySecret == null || ageKeySecret.isBlank() ? DEFAULT_SECRET : ageKeySecret;
    }
  }

  /**
   * A cluster environments may be applied to besides the controller's own ({@value #IN_CLUSTER}): a kubeconfig
   * file, or a Secret in the state namespace whose key {@value #SECRET_KEY} holds one. Either is read again at use,
   * so a rotated token needs no restart.
   */
  public record ClusterEndpoint(String kubeconfigFile, String kubeconfigSecret) {
    /** The controller's own cluster: where it runs, or where its kubeconfig points. */
    public static final String IN_CLUSTER = NamespacePolicy.IN_CLUSTER;
    public static final String SECRET_KEY = "kubeconfig";
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    /** A name another cluster may have: a DNS label, and not the controller's own cluster's. */
    public static boolean isValidName(String name) {
      return NAME.matcher(name).matches() && !name.equals(IN_CLUSTER);
    }

    static void check(String name, ClusterEndpoint endpoint) {
      if (!isValidName(name)) {
        throw new ConfigLoader.ConfigException("clusters." + name + ": not a cluster name; expected lowercase letters,"
            + " digits and '-' (at most 63), and not " + IN_CLUSTER + ", the controller's own cluster");
      }
      boolean file = endpoint != null && endpoint.kubeconfigFile() != null && !endpoint.kubeconfigFile().isBlank();
      boolean secret = endpoint != null && endpoint.kubeconfigSecret() != null && !endpoint.kubeconfigSecret().isBlank();
      if (file == secret) {
        throw new ConfigLoader.ConfigException("clusters." + name + ": expected exactly one of kubeconfigFile (a path)"
            + " and kubeconfigSecret (a Secret in kubernetes.stateNamespace with key " + SECRET_KEY + ")");
      }
    }
  }

  /**
   * One controller of several, each syncing the environments of some clusters (as Argo CD shards its application
   * controller): {@code clusters} names them ({@code in-cluster} for the controller's own); empty, every cluster.
   * Each shard takes a Lease of its own ({@link #leaseName()}), so the shards' leaders run side by side.
   */
  public record Shard(List<String> clusters) {
    public static final Shard ALL = new Shard(List.of());

    public Shard {
      clusters = clusters == null ? List.of() : clusters.stream().sorted().distinct().toList();
    }

    public boolean includes(String cluster) {
      return clusters.isEmpty() || clusters.contains(cluster);
    }
  }

  /** The Lease this controller's replicas elect a leader with: kubernetes.leaseName, suffixed with its shard's clusters. */
  public String leaseName() {
    if (shard.clusters().isEmpty()) return kubernetes.leaseName();
    String named = kubernetes.leaseName() + "-" + String.join("-", shard.clusters());
    return named.length() <= 63 ? named
        : kubernetes.leaseName() + "-" + Integer.toHexString(String.join(",", shard.clusters()).hashCode());
  }

  public ControllerConfig withShard(Shard shard) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  /** Where environments may live: the namespace patterns, on the controller's own cluster and the configured ones. */
  public NamespacePolicy namespacePolicy() {
    return kubernetes.namespacePolicy().onClusters(clusters.keySet());
  }

  public ControllerConfig withClusters(Map<String, ClusterEndpoint> clusters) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  public ControllerConfig withDecryption(Decryption decryption) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  public ControllerConfig withGit(Git git) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  public ControllerConfig withHttp(Http http) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  public ControllerConfig withKubernetes(Kubernetes kubernetes) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  public ControllerConfig withSync(Sync sync) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  public ControllerConfig withWebhooks(Webhooks webhooks) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  public ControllerConfig withObserve(Observe observe) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }

  public ControllerConfig withDatabases(Map<String, DatabaseEndpoint> databases) {
    return new ControllerConfig(git, kubernetes, sync, http, webhooks, observe, databases, decryption, clusters, shard, logging,
        notifications);
  }
}
