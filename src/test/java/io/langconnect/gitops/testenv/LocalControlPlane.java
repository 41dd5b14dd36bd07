package io.langconnect.gitops.testenv;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.cluster.KubernetesClients;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The one way tests reach the local control plane that {@code scripts/test-env.sh up} started: a real
 * kube-apiserver (RBAC on) with etcd and kube-controller-manager, PostgreSQL 15 with pgvector, and a git
 * daemon. Inject it as a test parameter; namespaces and databases a test creates through it are removed
 * after the test.
 */
public final class LocalControlPlane implements ParameterResolver, AfterEachCallback {

  private static final Path ENV_FILE = Path.of("target/test-env/env");
  private static volatile Map<String, String> env;
  private static volatile KubernetesClient admin;
  private static volatile Vertx vertx;

  private final List<String> namespaces = new ArrayList<>();
  private final List<String> databases = new ArrayList<>();

  static Map<String, String> env() {
    if (env == null) {
      synchronized (LocalControlPlane.class) {
        if (env == null) env = readEnvFile();
      }
    }
    return env;
  }

  private static Map<String, String> readEnvFile() {
    if (!Files.isRegularFile(ENV_FILE)) {
      throw new IllegalStateException(ENV_FILE + " is missing: start the local control plane with"
          + " `scripts/test-env.sh up` (the README's test command, scripts/test.sh, does it for you)");
    }
    Map<String, String> values = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(ENV_FILE)) {
        if (line.isBlank() || line.startsWith("#")) continue;
        int eq = line.indexOf('=');
        values.put(line.substring(0, eq), line.substring(eq + 1));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Map.copyOf(values);
  }

  /** A value of target/test-env/env by name (NODE_POSTGRES_IMAGE, KUBECTL, ...), failing clearly when absent. */
  public String setting(String name) {
    String value = env().get(name);
    if (value == null) throw new IllegalStateException(ENV_FILE + " has no " + name + "; run `scripts/test-env.sh up` again");
    return value;
  }

  public String apiUrl() {
    return env().get("KUBE_API_URL");
  }

  public String caFile() {
    return env().get("KUBE_CA_FILE");
  }

  public String kubeconfig() {
    return env().get("KUBECONFIG");
  }

  public String unprivilegedToken() {
    return env().get("KUBE_UNPRIVILEGED_TOKEN");
  }

  public String adminToken() {
    return env().get("KUBE_ADMIN_TOKEN");
  }

  /** A client with cluster-admin rights (system:masters). */
  public KubernetesClient admin() {
    if (admin == null) {
      synchronized (LocalControlPlane.class) {
        if (admin == null) admin = client(apiUrl(), adminToken());
      }
    }
    return admin;
  }

  /** A client for {@code url} (the API server, or a proxy in front of it) with {@code token}; retries off. */
  public KubernetesClient client(String url, String token) {
    return client(url, token, Duration.ofSeconds(30));
  }

  public KubernetesClient client(String url, String token, Duration requestTimeout) {
    Config config = new ConfigBuilder(Config.empty())
        .withMasterUrl(url)
        .withCaCertFile(caFile())
        .withOauthToken(token)
        .build();
    return KubernetesClients.create(config, requestTimeout);
  }

  /**
   * The second cluster scripts/test-env.sh starts (its own etcd, API server, controller manager and CA; no node),
   * for the tests that put environments on more than one cluster.
   */
  public record SecondCluster(String apiUrl, String caFile, String adminToken, String auditLog) {
    /** A client for {@code url} (this API server, or a proxy in front of it) with {@code token}; retries off. */
    public KubernetesClient client(String url, String token) {
      return KubernetesClients.create(new ConfigBuilder(Config.empty()).withMasterUrl(url).withCaCertFile(caFile)
          .withOauthToken(token).build(), Duration.ofSeconds(30));
    }

    /** A kubeconfig reaching {@code url} (this API server or a proxy to it) with {@code token}. */
    public String kubeconfig(String url, String token) {
      return """
          apiVersion: v1
          kind: Config
          clusters:
          - name: second
            cluster: {server: "%s", certificate-authority: "%s"}
          users:
          - name: user
            user: {token: "%s"}
          contexts:
          - name: second
            context: {cluster: second, user: user}
          current-context: second
          """.formatted(url, caFile, token);
    }
  }

  public SecondCluster secondCluster() {
    return new SecondCluster(setting("REMOTE_KUBE_API_URL"), setting("REMOTE_KUBE_CA_FILE"),
        setting("REMOTE_KUBE_ADMIN_TOKEN"), setting("REMOTE_KUBE_AUDIT_LOG"));
  }

  /** Creates a namespace with a unique name, deleted after the test. */
  public String newNamespace(String prefix) {
    String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    admin().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build()).create();
    namespaces.add(name);
    return name;
  }

  /** A unique name for a namespace the code under test creates; it is deleted after the test. */
  public String uniqueNamespace(String prefix) {
    String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    namespaces.add(name);
    return name;
  }

  /** Registers a namespace of a given name for deletion after the test. */
  public String uniqueNamespaceNamed(String name) {
    namespaces.add(name);
    return name;
  }

  /**
   * Waits until a namespace is gone: a test that installs manifests/ (fixed namespace names) must not meet the
   * previous one's namespace still terminating.
   */
  public void awaitNamespaceGone(String name) throws InterruptedException {
    Eventually.eventually("namespace " + name + " gone", Duration.ofMinutes(4),
        () -> admin().namespaces().withName(name).get() == null);
  }

  public static Vertx vertx() {
    if (vertx == null) {
      synchronized (LocalControlPlane.class) {
        if (vertx == null) vertx = Vertx.vertx();
      }
    }
    return vertx;
  }

  public PgConnectOptions postgres(String database) {
    return new PgConnectOptions()
        .setHost(env().get("PGHOST"))
        .setPort(Integer.parseInt(env().get("PGPORT")))
        .setUser(env().get("PGUSER"))
        .setDatabase(database);
  }

  public Pool pool(String database) {
    return PgBuilder.pool().with(new PoolOptions().setMaxSize(4)).connectingTo(postgres(database)).using(vertx()).build();
  }

  /** Creates a database with a unique name and the vector extension, dropped after the test. */
  public String newDatabase() {
    String name = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    Pool admin = pool("postgres");
    try {
      await(admin.query("CREATE DATABASE " + name).execute().map(r -> null));
    } finally {
      admin.close();
    }
    databases.add(name);
    Pool pool = pool(name);
    try {
      await(pool.query("CREATE EXTENSION vector").execute().map(r -> null));
    } finally {
      pool.close();
    }
    return name;
  }

  /**
   * Collections made by LangChain's own PGVector store (as LangConnect makes them) in {@code database}; each spec
   * is {@code name:owner:count:dimension}. Returns "uuid name count" lines.
   */
  public List<String> langchainCollections(String database, String... specs) throws IOException, InterruptedException {
    PgConnectOptions pg = postgres(database);
    String dsn = "postgresql+psycopg://" + pg.getUser() + "@" + pg.getHost() + ":" + pg.getPort() + "/" + database;
    List<String> command = new ArrayList<>(List.of(langchainPython(), "test-support/langchain/make_collections.py", dsn));
    command.addAll(List.of(specs));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (process.waitFor() != 0) throw new IllegalStateException("make_collections.py failed: " + output);
    return output.lines().filter(l -> l.matches("[0-9a-f-]{36} .*")).toList();
  }

  /** The Python with langchain-postgres installed (for test data made by LangChain itself). */
  public String langchainPython() {
    return env().get("LANGCHAIN_PYTHON");
  }

  /** The API server's audit log of requests made as the controller's ServiceAccount. */
  public String auditLog() {
    return env().get("KUBE_AUDIT_LOG");
  }

  public String promtool() {
    return env().get("PROMTOOL");
  }

  public String gitDaemonUrl() {
    return env().get("GIT_DAEMON_URL");
  }

  public Path gitDaemonRoot() {
    return Path.of(env().get("GIT_DAEMON_ROOT"));
  }

  public static <T> T await(io.vertx.core.Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e.getCause() != null ? e.getCause() : e);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
    return parameter.getParameter().getType() == LocalControlPlane.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext extension) {
    return this;
  }

  @Override
  public void afterEach(ExtensionContext extension) {
    namespaces.forEach(ns -> admin().namespaces().withName(ns).withGracePeriod(0).delete());
    namespaces.clear();
    if (!databases.isEmpty()) {
      Pool admin = pool("postgres");
      try {
        for (String db : databases) await(admin.query("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)").execute());
      } finally {
        admin.close();
      }
      databases.clear();
    }
  }
}
