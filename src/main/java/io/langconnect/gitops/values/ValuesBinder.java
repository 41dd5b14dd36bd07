package io.langconnect.gitops.values;

import io.langconnect.gitops.values.EnvironmentValues.Auth;
import io.langconnect.gitops.values.EnvironmentValues.Autoscaling;
import io.langconnect.gitops.values.EnvironmentValues.Backup;
import io.langconnect.gitops.values.EnvironmentValues.ObjectStore;
import io.langconnect.gitops.values.EnvironmentValues.SecretKey;
import io.langconnect.gitops.values.EnvironmentValues.EnvVar;
import io.langconnect.gitops.values.EnvironmentValues.Engine;
import io.langconnect.gitops.values.EnvironmentValues.External;
import io.langconnect.gitops.values.EnvironmentValues.Image;
import io.langconnect.gitops.values.EnvironmentValues.LangConnect;
import io.langconnect.gitops.values.EnvironmentValues.Persistence;
import io.langconnect.gitops.values.EnvironmentValues.Postgres;
import io.langconnect.gitops.values.EnvironmentValues.Probe;
import io.langconnect.gitops.values.EnvironmentValues.Resources;
import io.langconnect.gitops.values.EnvironmentValues.Scheduling;
import io.langconnect.gitops.values.EnvironmentValues.Service;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The schema of an environment's values: which keys exist, their defaults and their rules. Keys and
 * defaults follow the reference Helm chart, so its values files move over unchanged.
 */
public final class ValuesBinder {

  /** The outcome for one environment: its values when it has no errors, and every problem found. */
  public record Binding(Optional<EnvironmentValues> values, List<Problem> problems) {}

  private static final Set<String> PRODUCTION_NAMES = Set.of("prod", "production");
  private static final List<String> RESOURCE_NAMES = List.of("cpu", "memory", "ephemeral-storage");
  private static final Set<String> LANGCONNECT_RESERVED_ENV =
      Set.of("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB");
  private static final Set<String> POSTGRES_RESERVED_ENV = Set.of("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "PGDATA");
  private static final String SECURITY_CONTEXT_IGNORED =
      "ignored: the controller always applies its own non-root security context (see README)";

  private final String environment;
  private final ValueReader in;
  private final NamespacePolicy namespaces;

  private ValuesBinder(String environment, YamlNode.Mapping values, Source fallback, NamespacePolicy namespaces) {
    this.environment = environment;
    this.in = new ValueReader(values, fallback);
    this.namespaces = namespaces;
  }

  /**
   * Binds layered values for {@code environment}; {@code envFile} names the environment's own file,
   * where problems without a line of their own are reported.
   */
  public static Binding bind(String environment, YamlNode.Mapping values, String envFile, NamespacePolicy namespaces) {
    ValuesBinder binder = new ValuesBinder(environment, values, new Source(envFile, 0), namespaces);
    EnvironmentValues bound = binder.bindAll();
    List<Problem> problems = List.copyOf(binder.in.problems());
    boolean failed = problems.stream().anyMatch(Problem::isError);
    return new Binding(failed ? Optional.empty() : Optional.of(bound), problems);
  }

  private EnvironmentValues bindAll() {
    boolean production = in.bool("production", PRODUCTION_NAMES.contains(environment));
    in.optionalString("environment").ifPresent(declared -> {
      if (!declared.equals(environment)) {
        in.warning(in.find("environment").orElse(null), "environment",
            "\"" + declared + "\" differs from the file's environment \"" + environment + "\"; the file name wins");
      }
    });
    String release = bindRelease();
    Optional<String> explicit = in.checked("namespace", in.optionalString("namespace"), Rules::dns1123Label);
    String namespace = explicit.orElse(ValuesFiles.defaultNamespace(environment));
    if (!namespaces.allows(namespace)) {
      in.error(in.find("namespace").orElse(null), "namespace", "\"" + namespace + "\"" + (explicit.isEmpty()
          ? " (the default for this environment)" : "") + " is not a namespace environments may use; expected one"
          + " that kubernetes.allowedNamespaces allows: " + namespaces.describe());
    }
    String cluster = bindCluster();
    Map<String, String> podAnnotations = in.stringMap("podAnnotations");
    Map<String, String> podLabels = in.stringMap("podLabels");
    List<String> pullSecrets = bindPullSecrets();
    Postgres postgres = bindPostgres(production);
    LangConnect langconnect = bindLangConnect(production);
    Backup backup = bindBackup(postgres.keepsData(), production);
    ignoreReferenceChartExtras();
    in.reportUnknownKeys();
    warnOnUnversionedTag(postgres, production);
    return new EnvironmentValues(environment, release, namespace, cluster, production, podAnnotations, podLabels,
        pullSecrets, postgres, langconnect, backup, origins("release", "namespace", "postgres.image.tag", "postgres.engine"));
  }

  /** The cluster the environment is applied to: the controller's own unless the config names another. */
  private String bindCluster() {
    Optional<String> named = in.optionalString("cluster");
    if (named.isPresent() && !namespaces.clusters().contains(named.get())) {
      in.error(in.find("cluster").orElse(null), "cluster", "\"" + named.get() + "\" is not a cluster the controller"
          + " knows; expected one of: " + String.join(", ", namespaces.clusters()) + " (clusters: in the controller"
          + " config names the others)");
    }
    return named.orElse(NamespacePolicy.IN_CLUSTER);
  }

  /** Where the keys that live-state guards name were set; "" is the environment's own file. */
  private Map<String, Source> origins(String... keys) {
    Map<String, Source> origins = new LinkedHashMap<>();
    origins.put("", in.fallback());
    for (String key : keys) in.find(key).ifPresent(node -> origins.put(key, node.source()));
    return origins;
  }

  /**
   * A tag without a major version cannot be checked against the data directory, and may move to the next major
   * by itself: fine for a throwaway database, worth a warning where the data is production's.
   */
  private void warnOnUnversionedTag(Postgres postgres, boolean production) {
    if (!postgres.bundled()) return; // the image is only the client tools'
    if (production && !postgres.persistence().enabled()) {
      in.warning(in.find("postgres.persistence.enabled").orElse(null), "postgres.persistence.enabled", "is false for a"
          + " production environment: its database lives in an emptyDir and starts empty whenever its pod does;"
          + " expected true");
    }
    if (!production || !postgres.persistence().enabled()) return;
    if (PostgresVersions.major(postgres.image().tag()).isEmpty()) {
      in.warning(in.find("postgres.image.tag").orElse(null), "postgres.image.tag", "\"" + postgres.image().tag()
          + "\" names no PostgreSQL major version, so a major upgrade cannot be caught before it starts on the"
          + " data of production; expected a tag such as pg16 or 16.4");
    }
  }

  private String bindRelease() {
    Optional<String> fullnameOverride = in.optionalString("fullnameOverride").filter(s -> !s.isEmpty());
    Optional<String> release = in.optionalString("release");
    if (release.isPresent() && fullnameOverride.isPresent() && !release.equals(fullnameOverride)) {
      in.error(in.find("fullnameOverride").orElse(null), "fullnameOverride",
          "\"" + fullnameOverride.get() + "\" conflicts with release \"" + release.get() + "\"; expected only one of them");
    }
    String path = release.isPresent() ? "release" : "fullnameOverride";
    return in.checked(path, release.or(() -> fullnameOverride), Rules::releaseName)
        .orElse(EnvironmentValues.DEFAULT_RELEASE);
  }

  private List<String> bindPullSecrets() {
    List<String> names = new ArrayList<>();
    in.freeForm("imagePullSecrets");
    in.sequence("imagePullSecrets").ifPresent(seq -> {
      for (int i = 0; i < seq.items().size(); i++) {
        YamlNode item = seq.items().get(i);
        String path = "imagePullSecrets[" + i + "]";
        Object name = item instanceof YamlNode.Mapping m && m.entries().get("name") instanceof YamlNode.Scalar s
            ? s.value()
            : item instanceof YamlNode.Scalar s ? s.value() : null;
        if (name instanceof String text && Rules.dns1123Subdomain(text) == null) {
          names.add(text);
        } else {
          in.error(item, path, item.describe() + " is not a Secret reference; expected - name: <secret name>");
        }
      }
    });
    return names;
  }

  private Postgres bindPostgres(boolean production) {
    Engine engine = in.checked("postgres.engine", in.optionalString("postgres.engine"), Rules::engine).map(Engine::of)
        .orElse(Engine.BUNDLED);
    Image image = bindImage("postgres.image", Optional.of("pgvector/pgvector"), "pg16");
    Optional<External> external = engine == Engine.EXTERNAL ? Optional.of(bindExternal()) : Optional.empty();
    if (engine != Engine.EXTERNAL) {
      in.ignore("postgres.external", "ignored: postgres.engine is " + engine.key() + "; set postgres.engine: external to use it");
    }
    Auth auth = switch (engine) {
      case EXTERNAL -> externalAuth();
      case CLOUDNATIVE_PG -> cloudnativePgAuth();
      case BUNDLED -> bindAuth(production);
    };
    Service service = bindService("postgres.service", 5432);
    if (!service.type().equals("ClusterIP")) {
      in.error(in.find("postgres.service.type").orElse(null), "postgres.service.type",
          "\"" + service.type() + "\" is not allowed; expected ClusterIP: the database is never exposed outside the cluster");
    }
    Persistence persistence = new Persistence(
        in.bool("postgres.persistence.enabled", false),
        in.checked("postgres.persistence.size", in.optionalText("postgres.persistence.size"), Rules::positiveQuantity)
            .orElse("8Gi"),
        in.string("postgres.persistence.storageClass", ""),
        in.checked("postgres.persistence.accessMode", in.optionalString("postgres.persistence.accessMode"),
            Rules::accessMode).orElse("ReadWriteOnce"),
        in.checked("postgres.persistence.existingClaim",
            in.optionalString("postgres.persistence.existingClaim").filter(s -> !s.isEmpty()), Rules::dns1123Subdomain),
        // Production data outlives its claim unless the values say otherwise; elsewhere the StorageClass decides.
        in.checked("postgres.persistence.reclaimPolicy", in.optionalString("postgres.persistence.reclaimPolicy"),
            Rules::reclaimPolicy).or(() -> production ? Optional.of("Retain") : Optional.empty()));
    if (persistence.existingClaim().isPresent() && !persistence.enabled()) {
      in.error(in.find("postgres.persistence.existingClaim").orElse(null), "postgres.persistence.existingClaim",
          "is set but postgres.persistence.enabled is false; expected enabled: true to use the claim");
    }
    in.checked("postgres.persistence.storageClass", Optional.of(persistence.storageClass()).filter(s -> !s.isEmpty()),
        Rules::dns1123Subdomain);
    Resources resources = bindResources("postgres.resources");
    // Crash recovery replays WAL for as long as it takes, with pg_isready failing meanwhile: liveness waits for the
    // server's first answer (up to 10 s x 360 = an hour by default) instead of killing the replay again and again.
    Probe startup = bindProbe("postgres.startupProbe", false, new Probe(true, "", 0, 10, 5, 1, 360));
    Probe liveness = bindProbe("postgres.livenessProbe", false, new Probe(true, "", 30, 10, 5, 1, 6));
    Probe readiness = bindProbe("postgres.readinessProbe", false, new Probe(true, "", 5, 5, 3, 1, 3));
    List<EnvVar> env = bindEnv("postgres.env", POSTGRES_RESERVED_ENV, production);
    Map<String, String> podAnnotations = in.stringMap("postgres.podAnnotations");
    Scheduling scheduling = bindScheduling("postgres");
    in.ignore("postgres.podSecurityContext", SECURITY_CONTEXT_IGNORED);
    in.ignore("postgres.securityContext", SECURITY_CONTEXT_IGNORED);
    boolean allowMajor = in.bool("postgres.upgrade.allowMajor", false);
    if (engine == Engine.EXTERNAL && persistence.enabled()) {
      in.error(in.find("postgres.persistence.enabled").orElse(null), "postgres.persistence.enabled", "is true but"
          + " postgres.engine is external, whose server keeps its own data; expected it left out (no claim is made)");
    }
    int instances = in.integer("postgres.instances", 1, 1, 9);
    if (engine == Engine.CLOUDNATIVE_PG) {
      checkCloudnativePg(image, persistence);
    } else if (in.isSet("postgres.instances")) {
      in.warning(in.find("postgres.instances").orElse(null), "postgres.instances", "ignored: only postgres.engine"
          + " cloudnative-pg runs replicas; the " + engine.key() + " engine runs one server");
    }
    return new Postgres(image, auth, service, persistence, resources, startup, liveness, readiness, env, podAnnotations,
        scheduling, allowMajor, engine, external, engine == Engine.CLOUDNATIVE_PG ? instances : 1, Optional.empty());
  }

  /** What CloudNativePG needs of the shared keys: a major version in the tag, data always on its own claims. */
  private void checkCloudnativePg(Image image, Persistence persistence) {
    if (!image.tag().matches("[0-9]+([._-].*)?")) {
      in.error(in.find("postgres.image.tag").orElse(null), "postgres.image.tag", "\"" + image.tag() + "\" does not start"
          + " with a PostgreSQL major version, which CloudNativePG reads from the tag; expected a tag such as 17 or 17.6");
    }
    if (in.isSet("postgres.persistence.enabled") && !persistence.enabled()) {
      in.error(in.find("postgres.persistence.enabled").orElse(null), "postgres.persistence.enabled", "is false but"
          + " CloudNativePG always keeps each instance's data on a claim of its own; expected it left out");
    }
    if (persistence.existingClaim().isPresent()) {
      in.error(in.find("postgres.persistence.existingClaim").orElse(null), "postgres.persistence.existingClaim",
          "is set but CloudNativePG makes each instance's claim itself; expected it left out (bring data in with restore)");
    }
    if (in.isSet("postgres.persistence.reclaimPolicy")) {
      in.warning(in.find("postgres.persistence.reclaimPolicy").orElse(null), "postgres.persistence.reclaimPolicy",
          "ignored: CloudNativePG's claims keep the StorageClass's reclaim policy; choose a StorageClass with Retain");
    }
  }

  /**
   * CloudNativePG's application user and database: the operator makes both and generates the password (Secret
   * {@code <release>-postgres-app}), or takes it from existingSecret (a basic-auth Secret).
   */
  private Auth cloudnativePgAuth() {
    String username = in.checked("postgres.auth.username", in.optionalString("postgres.auth.username"),
        Rules::postgresName).orElse("app");
    if (username.equals("postgres")) {
      in.error(in.find("postgres.auth.username").orElse(null), "postgres.auth.username", "\"postgres\" is CloudNativePG's"
          + " superuser; expected the application's own owner, such as app (the default)");
    }
    String database = in.checked("postgres.auth.database", in.optionalString("postgres.auth.database"),
        Rules::postgresName).orElse("app");
    if (in.isSet("postgres.auth.password")) {
      in.warning(in.find("postgres.auth.password").orElse(null), "postgres.auth.password", "ignored: CloudNativePG"
          + " generates the password (Secret <release>-postgres-app), or reads postgres.auth.existingSecret (basic-auth)");
    }
    Optional<String> existingSecret = in.checked("postgres.auth.existingSecret",
        in.optionalString("postgres.auth.existingSecret").filter(s -> !s.isEmpty()), Rules::dns1123Subdomain);
    return new Auth(username, Optional.empty(), database, existingSecret);
  }

  /** Where the external database is; {@link #externalAuth} reads who connects to it. */
  private External bindExternal() {
    String path = "postgres.external";
    if (!in.isSet(path + ".host")) {
      in.error(in.nearest(path + ".host"), path + ".host", "is required with postgres.engine external; expected the"
          + " database server's host name or address, as pods reach it");
    }
    String host = in.checked(path + ".host", in.optionalString(path + ".host"), Rules::host).orElse("");
    int port = in.integer(path + ".port", 5432, 1, 65535);
    Optional<String> sslMode = in.checked(path + ".sslMode", in.optionalString(path + ".sslMode"), Rules::sslMode);
    Optional<String> caSecret = in.checked(path + ".caSecret", in.optionalString(path + ".caSecret")
        .filter(s -> !s.isEmpty()), Rules::dns1123Subdomain);
    if (caSecret.isPresent() && sslMode.filter(Set.of("require", "verify-ca", "verify-full")::contains).isEmpty()) {
      in.error(in.find(path + ".caSecret").orElse(null), path + ".caSecret", "is set but sslMode is "
          + sslMode.orElse("unset") + ", which verifies no certificate; expected sslMode verify-full (or verify-ca)");
    }
    return new External(host, port, sslMode, caSecret);
  }

  /** The external database's user, database and password Secret; postgres.auth says nothing about that server. */
  private Auth externalAuth() {
    String path = "postgres.external";
    for (String key : List.of("username", "password", "database", "existingSecret")) {
      if (in.isSet("postgres.auth." + key)) {
        in.warning(in.find("postgres.auth." + key).orElse(null), "postgres.auth." + key, "ignored: with postgres.engine"
            + " external the connection comes from postgres.external" + (key.equals("password") ? ".existingSecret" : "." + key));
      }
    }
    String username = in.checked(path + ".username", in.optionalString(path + ".username"), Rules::postgresName)
        .orElse("postgres");
    String database = in.checked(path + ".database", in.optionalString(path + ".database"), Rules::postgresName)
        .orElse("postgres");
    if (!in.isSet(path + ".existingSecret")) {
      in.error(in.nearest(path + ".existingSecret"), path + ".existingSecret", "is required with postgres.engine"
          + " external; expected the name of a Secret in the environment's namespace with key postgres-password");
    }
    Optional<String> secret = in.checked(path + ".existingSecret", in.optionalString(path + ".existingSecret"),
        Rules::dns1123Subdomain);
    return new Auth(username, Optional.empty(), database, secret);
  }

  private Auth bindAuth(boolean production) {
    String username = in.checked("postgres.auth.username", in.optionalString("postgres.auth.username"),
        Rules::postgresName).orElse("postgres");
    String database = in.checked("postgres.auth.database", in.optionalString("postgres.auth.database"),
        Rules::postgresName).orElse("postgres");
    Optional<String> existingSecret = in.checked("postgres.auth.existingSecret",
        in.optionalString("postgres.auth.existingSecret").filter(s -> !s.isEmpty()), Rules::dns1123Subdomain);
    Optional<String> password = in.optionalString("postgres.auth.password");
    YamlNode passwordNode = in.find("postgres.auth.password").orElse(null);
    if (existingSecret.isPresent()) {
      if (password.filter(p -> !p.isEmpty()).isPresent()) {
        in.warning(passwordNode, "postgres.auth.password",
            "ignored because postgres.auth.existingSecret is set; the password comes from that Secret");
      }
      return new Auth(username, Optional.empty(), database, existingSecret);
    }
    if (password.isPresent() && Rules.isPlaceholder(password.get())) {
      in.error(passwordNode, "postgres.auth.password", "\"" + password.get() + "\" is the reference chart's placeholder;"
          + " expected a real password, or postgres.auth.existingSecret naming a Secret with key postgres-password");
      return new Auth(username, Optional.empty(), database, Optional.empty());
    }
    if (production && password.isPresent() && (password.get().isEmpty() || password.get().equals("postgres"))) {
      in.error(passwordNode, "postgres.auth.password", (password.get().isEmpty() ? "an empty password" : "\"postgres\"")
          + " is refused for the production environment \"" + environment + "\"; expected a strong password,"
          + " postgres.auth.existingSecret, or no password so that one is generated");
    } else if (production && password.isPresent()
        && !(passwordNode instanceof YamlNode.Scalar scalar && scalar.encrypted())) {
      // A warning, not an error: production files written before sops support keep syncing.
      in.warning(passwordNode, "postgres.auth.password", "is plain text in git for the production environment \""
          + environment + "\"; encrypt it (" + encryptCommand() + ") or use postgres.auth.existingSecret");
    }
    return new Auth(username, password.filter(p -> !p.isEmpty()), database, Optional.empty());
  }

  private LangConnect bindLangConnect(boolean production) {
    Image image = bindImage("langconnect.image", Optional.empty(), "latest");
    int replicas = bindReplicas();
    Service service = bindService("langconnect.service", 8080);
    Resources resources = bindResources("langconnect.resources");
    Probe liveness = bindProbe("langconnect.livenessProbe", true, new Probe(true, "/health", 30, 10, 5, 1, 3));
    Probe readiness = bindProbe("langconnect.readinessProbe", true, new Probe(true, "/health", 10, 5, 3, 1, 3));
    List<EnvVar> env = bindEnv("langconnect.env", LANGCONNECT_RESERVED_ENV, false);
    Map<String, String> secrets = bindSecrets(env, production);
    Map<String, String> podAnnotations = in.stringMap("langconnect.podAnnotations");
    Autoscaling autoscaling = bindAutoscaling(replicas);
    Scheduling scheduling = bindScheduling("langconnect");
    in.ignore("langconnect.podSecurityContext", SECURITY_CONTEXT_IGNORED);
    in.ignore("langconnect.securityContext", SECURITY_CONTEXT_IGNORED);
    return new LangConnect(image, replicas, service, resources, liveness, readiness, env, secrets, podAnnotations,
        autoscaling, scheduling);
  }

  /**
   * {@code secrets:} (OPENAI_API_KEY, SUPABASE_KEY, ...) become LangConnect's environment through a Secret the
   * controller writes. Kept in git, they must be encrypted with sops where the environment is production.
   */
  private Map<String, String> bindSecrets(List<EnvVar> env, boolean production) {
    Map<String, String> secrets = in.stringMap("secrets");
    Optional<YamlNode.Mapping> nodes = in.find("secrets").filter(YamlNode.Mapping.class::isInstance)
        .map(YamlNode.Mapping.class::cast);
    Set<String> envNames = env.stream().map(EnvVar::name).collect(java.util.stream.Collectors.toSet());
    for (String name : secrets.keySet()) {
      YamlNode node = nodes.map(m -> m.entries().get(name)).orElse(null);
      String path = "secrets." + name;
      if (Rules.envName(name) != null) {
        in.error(node, path, "is not valid; expected " + Rules.envName(name) + ", e.g. OPENAI_API_KEY");
      } else if (LANGCONNECT_RESERVED_ENV.contains(name)) {
        in.error(node, path, "is set by the controller from postgres.auth; expected another name");
      } else if (envNames.contains(name)) {
        in.error(node, path, "is also set in langconnect.env; expected it in one place");
      } else if (production && !(node instanceof YamlNode.Scalar scalar && scalar.encrypted())) {
        in.error(node, path, "is plain text in git for the production environment \"" + environment + "\"; expected it"
            + " encrypted: " + encryptCommand());
      }
    }
    return secrets;
  }

  /** How to encrypt the environment's file so that its password and secrets are kept in git encrypted. */
  private String encryptCommand() {
    return "sops --encrypt --age <recipient> --encrypted-regex '^(password|secrets)$' --in-place " + in.fallback().file();
  }

  /** Backups are on by default wherever the data is persistent: an emptyDir database has nothing to keep. */
  private Backup bindBackup(boolean persistent, boolean production) {
    boolean enabled = in.bool("backup.enabled", persistent);
    String schedule = in.checked("backup.schedule", in.optionalString("backup.schedule"), Rules::cron).orElse("0 3 * * *");
    String timeZone = in.checked("backup.timeZone", in.optionalString("backup.timeZone").filter(s -> !s.isEmpty()),
        Rules::timeZone).orElse("");
    int retention = in.integer("backup.retention", 7, 1, 1000);
    int keepDays = in.integer("backup.keepDays", 0, 0, 3650);
    String size = in.checked("backup.storage.size", in.optionalText("backup.storage.size"), Rules::positiveQuantity)
        .orElse("10Gi");
    String storageClass = in.checked("backup.storage.storageClass",
        in.optionalString("backup.storage.storageClass").filter(s -> !s.isEmpty()), Rules::dns1123Subdomain).orElse("");
    boolean beforeChange = in.bool("backup.beforeChange", production);
    return new Backup(enabled, schedule, timeZone, retention, keepDays, size, storageClass, bindResources("backup.resources"),
        beforeChange, bindObjectStore());
  }

  private Optional<ObjectStore> bindObjectStore() {
    String path = "backup.objectStore";
    if (!in.isSet(path)) return Optional.empty();
    Optional<String> destination = in.checked(path + ".destinationPath", in.optionalString(path + ".destinationPath"),
        Rules::s3Path);
    if (!in.isSet(path + ".destinationPath")) {
      in.error(in.nearest(path + ".destinationPath"), path + ".destinationPath",
          "is required; expected s3://bucket or s3://bucket/prefix");
    }
    Optional<String> endpoint = in.checked(path + ".endpointURL", in.optionalString(path + ".endpointURL"), Rules::httpUrl);
    Optional<String> region = in.checked(path + ".region", in.optionalString(path + ".region"), Rules::region);
    Optional<SecretKey> accessKeyId = bindSecretKey(path + ".s3Credentials.accessKeyId", true);
    Optional<SecretKey> secretAccessKey = bindSecretKey(path + ".s3Credentials.secretAccessKey", true);
    Optional<SecretKey> endpointCA = bindSecretKey(path + ".endpointCA", false);
    boolean keepLocalCopy = in.bool(path + ".keepLocalCopy", false);
    Image uploader = bindImage(path + ".uploader.image", Optional.of("rclone/rclone"), "1.68.2");
    if (destination.isEmpty() || accessKeyId.isEmpty() || secretAccessKey.isEmpty()) return Optional.empty();
    String rest = destination.get().substring("s3://".length()).replaceAll("/+$", "");
    int slash = rest.indexOf('/');
    return Optional.of(new ObjectStore(slash < 0 ? rest : rest.substring(0, slash), slash < 0 ? "" : rest.substring(slash + 1),
        endpoint, region, accessKeyId.get(), secretAccessKey.get(), endpointCA, keepLocalCopy, uploader));
  }

  /** {@code {name: SECRET, key: KEY}}: both are needed. */
  private Optional<SecretKey> bindSecretKey(String path, boolean required) {
    if (!in.isSet(path)) {
      if (required) in.error(in.nearest(path), path, "is required; expected {name: SECRET, key: KEY}");
      return Optional.empty();
    }
    Optional<String> name = in.checked(path + ".name", in.optionalString(path + ".name"), Rules::dns1123Subdomain);
    Optional<String> key = in.checked(path + ".key", in.optionalString(path + ".key"), Rules::secretKey);
    for (String part : java.util.List.of("name", "key")) {
      if (!in.isSet(path + "." + part)) {
        in.error(in.nearest(path + "." + part), path + "." + part, "is required; expected {name: SECRET, key: KEY}");
      }
    }
    return name.isPresent() && key.isPresent() ? Optional.of(new SecretKey(name.get(), key.get())) : Optional.empty();
  }

  /** {@code replicaCount} is the reference chart's key, {@code replicas} this project's; either may be used. */
  private int bindReplicas() {
    Optional<Integer> replicaCount = in.optionalInteger("langconnect.replicaCount", 0, 1000);
    Optional<Integer> replicas = in.optionalInteger("langconnect.replicas", 0, 1000);
    if (replicaCount.isPresent() && replicas.isPresent() && !replicaCount.equals(replicas)) {
      in.error(in.find("langconnect.replicas").orElse(null), "langconnect.replicas", replicas.get()
          + " conflicts with langconnect.replicaCount " + replicaCount.get() + "; expected only one of them");
    }
    return replicas.or(() -> replicaCount).orElse(1);
  }

  private Image bindImage(String path, Optional<String> defaultRepository, String defaultTag) {
    Optional<String> repository = in.checked(path + ".repository", in.optionalString(path + ".repository"),
        Rules::imageRepository);
    if (defaultRepository.isEmpty() && !in.isSet(path + ".repository")) {
      in.error(in.nearest(path + ".repository"), path + ".repository",
          "is required; expected the LangConnect image you build and push (no public image exists)");
    }
    String tag = in.checked(path + ".tag", in.optionalText(path + ".tag"), Rules::imageTag).orElse(defaultTag);
    String pullPolicy = in.checked(path + ".pullPolicy", in.optionalString(path + ".pullPolicy"), Rules::pullPolicy)
        .orElse("IfNotPresent");
    return new Image(repository.or(() -> defaultRepository).orElse(""), tag, pullPolicy);
  }

  private Service bindService(String path, int defaultPort) {
    String type = in.checked(path + ".type", in.optionalString(path + ".type"), Rules::serviceType).orElse("ClusterIP");
    int port = in.integer(path + ".port", defaultPort, 1, 65535);
    return new Service(type, port);
  }

  private Resources bindResources(String path) {
    Map<String, String> limits = bindResourceList(path + ".limits");
    Map<String, String> requests = bindResourceList(path + ".requests");
    requests.forEach((name, request) -> {
      String limit = limits.get(name);
      if (limit != null && Rules.amount(request).compareTo(Rules.amount(limit)) > 0) {
        in.error(in.find(path + ".requests." + name).orElse(null), path + ".requests." + name,
            request + " is above the limit " + limit + "; expected a request no larger than " + path + ".limits." + name);
      }
    });
    return new Resources(limits, requests);
  }

  private Map<String, String> bindResourceList(String path) {
    Map<String, String> quantities = new LinkedHashMap<>();
    in.mapping(path);
    for (String name : RESOURCE_NAMES) {
      String key = path + "." + name;
      in.checked(key, in.optionalText(key), Rules::quantity).ifPresent(q -> quantities.put(name, q));
    }
    return quantities;
  }

  private Probe bindProbe(String path, boolean httpPath, Probe defaults) {
    boolean enabled = in.bool(path + ".enabled", defaults.enabled());
    String probePath = httpPath
        ? in.checked(path + ".path", in.optionalString(path + ".path"), p -> p.startsWith("/") ? null : "a path starting with /")
            .orElse(defaults.path())
        : "";
    if (!httpPath) in.ignore(path + ".path", "ignored: the database probe runs pg_isready, not an HTTP request");
    int successThreshold = in.integer(path + ".successThreshold", defaults.successThreshold(), 1, 1_000);
    if (path.endsWith("livenessProbe") && successThreshold != 1) {
      in.error(in.find(path + ".successThreshold").orElse(null), path + ".successThreshold",
          successThreshold + " is not allowed for a liveness probe; expected 1 (a Kubernetes rule)");
    }
    return new Probe(enabled, probePath,
        in.integer(path + ".initialDelaySeconds", defaults.initialDelaySeconds(), 0, 3_600),
        in.integer(path + ".periodSeconds", defaults.periodSeconds(), 1, 3_600),
        in.integer(path + ".timeoutSeconds", defaults.timeoutSeconds(), 1, 3_600),
        successThreshold,
        in.integer(path + ".failureThreshold", defaults.failureThreshold(), 1, 1_000));
  }

  /** Extra variables, as the reference chart's list ({@code - name: X, value: Y}) or as a map ({@code X: Y}). */
  private List<EnvVar> bindEnv(String path, Set<String> reserved, boolean production) {
    List<EnvVar> env = new ArrayList<>();
    Optional<YamlNode> node = in.freeForm(path);
    if (node.isEmpty()) return env;
    if (node.get() instanceof YamlNode.Mapping map) {
      map.entries().forEach((name, value) -> envFromMapEntry(path + "." + name, name, value).ifPresent(env::add));
    } else if (node.get() instanceof YamlNode.Sequence seq) {
      for (int i = 0; i < seq.items().size(); i++) {
        envFromListItem(path + "[" + i + "]", seq.items().get(i)).ifPresent(env::add);
      }
    } else {
      in.error(node.get(), path, node.get().describe() + " is not a list or mapping;"
          + " expected - name: NAME / value: \"text\" items, or NAME: \"text\" entries");
      return env;
    }
    Set<String> seen = new HashSet<>();
    for (EnvVar var : env) {
      if (reserved.contains(var.name())) {
        in.error(node.get(), path, var.name() + " is set by the controller from postgres.auth and postgres.service;"
            + " expected it to be left out");
      } else if (!seen.add(var.name())) {
        in.error(node.get(), path, var.name() + " is listed twice; expected each variable once");
      }
      var.value().filter(Rules::isPlaceholder).ifPresent(v -> in.warning(node.get(), path,
          var.name() + " holds the placeholder \"" + v + "\"; expected a real value"));
    }
    return env;
  }

  private Optional<EnvVar> envFromMapEntry(String path, String name, YamlNode value) {
    if (Rules.envName(name) != null) {
      in.error(value, path, "\"" + name + "\" is not valid; expected " + Rules.envName(name));
      return Optional.empty();
    }
    if (value instanceof YamlNode.Scalar s && s.value() instanceof String text) {
      return Optional.of(new EnvVar(name, Optional.of(text), Optional.empty()));
    }
    in.error(value, path, value.describe() + " is not text; expected a string (Kubernetes variables are text; quote it)");
    return Optional.empty();
  }

  @SuppressWarnings("unchecked")
  private Optional<EnvVar> envFromListItem(String path, YamlNode item) {
    if (!(item instanceof YamlNode.Mapping m)) {
      in.error(item, path, item.describe() + " is not a variable; expected name: and value: (or valueFrom:)");
      return Optional.empty();
    }
    Set<String> extra = new HashSet<>(m.entries().keySet());
    extra.removeAll(Set.of("name", "value", "valueFrom"));
    extra.forEach(key -> in.error(m.entries().get(key), path + "." + key, "unknown key; expected name, value or valueFrom"));
    YamlNode nameNode = m.entries().get("name");
    if (!(nameNode instanceof YamlNode.Scalar ns) || !(ns.value() instanceof String name)) {
      in.error(item, path + ".name", "is missing or not text; expected a variable name");
      return Optional.empty();
    }
    if (Rules.envName(name) != null) {
      in.error(nameNode, path + ".name", "\"" + name + "\" is not valid; expected " + Rules.envName(name));
      return Optional.empty();
    }
    YamlNode value = m.entries().get("value");
    YamlNode valueFrom = m.entries().get("valueFrom");
    if (value != null && valueFrom != null) {
      in.error(item, path, "has both value and valueFrom; expected one of them");
      return Optional.empty();
    }
    if (valueFrom instanceof YamlNode.Mapping from) {
      return Optional.of(new EnvVar(name, Optional.empty(), Optional.of((Map<String, Object>) ValueReader.plain(from))));
    }
    if (valueFrom != null) {
      in.error(valueFrom, path + ".valueFrom", valueFrom.describe() + " is not a mapping; expected secretKeyRef: or configMapKeyRef:");
      return Optional.empty();
    }
    if (value == null || value instanceof YamlNode.Scalar vs && vs.isNull()) {
      return Optional.of(new EnvVar(name, Optional.of(""), Optional.empty()));
    }
    if (value instanceof YamlNode.Scalar vs && vs.value() instanceof String text) {
      return Optional.of(new EnvVar(name, Optional.of(text), Optional.empty()));
    }
    in.error(value, path + ".value", value.describe() + " is not text; expected a string (quote it)");
    return Optional.empty();
  }

  private Autoscaling bindAutoscaling(int replicas) {
    String path = "langconnect.autoscaling";
    boolean enabled = in.bool(path + ".enabled", false);
    int min = in.integer(path + ".minReplicas", Math.max(1, replicas), 1, 1000);
    int max = in.integer(path + ".maxReplicas", Math.max(min, 6), 1, 1000);
    Optional<Integer> cpu = in.optionalInteger(path + ".targetCPUUtilizationPercentage", 1, 1000);
    Optional<Integer> memory = in.optionalInteger(path + ".targetMemoryUtilizationPercentage", 1, 1000);
    if (enabled && min > max) {
      in.error(in.find(path + ".minReplicas").orElse(null), path + ".minReplicas",
          min + " is above maxReplicas " + max + "; expected minReplicas <= maxReplicas");
    }
    if (cpu.isEmpty() && memory.isEmpty()) cpu = Optional.of(80);
    return new Autoscaling(enabled, min, max, cpu, memory);
  }

  @SuppressWarnings("unchecked")
  private Scheduling bindScheduling(String component) {
    Map<String, String> nodeSelector = in.stringMap(component + ".nodeSelector");
    List<Object> tolerations = new ArrayList<>();
    in.freeForm(component + ".tolerations");
    in.sequence(component + ".tolerations").ifPresent(seq -> {
      for (int i = 0; i < seq.items().size(); i++) {
        YamlNode item = seq.items().get(i);
        if (item instanceof YamlNode.Mapping) {
          tolerations.add(ValueReader.plain(item));
        } else {
          in.error(item, component + ".tolerations[" + i + "]", item.describe() + " is not a toleration; expected key:, operator:, effect:");
        }
      }
    });
    in.freeForm(component + ".affinity");
    Map<String, Object> affinity = in.mapping(component + ".affinity")
        .map(m -> (Map<String, Object>) ValueReader.plain(m)).orElse(Map.of());
    return new Scheduling(nodeSelector, tolerations, affinity);
  }

  /** Keys of the reference chart outside this stack: accepted, so its files move over unchanged, and named as ignored. */
  private void ignoreReferenceChartExtras() {
    in.ignore("toolServer", "ignored: the tool server is not part of the LangConnect stack this controller runs");
    in.ignore("web", "ignored: the web frontend is not part of the LangConnect stack this controller runs");
    in.ignore("redis", "ignored: Redis is not part of the LangConnect stack this controller runs");
    in.ignore("aegra", "ignored: Aegra is not part of the LangConnect stack this controller runs");
    in.ignore("serviceAccount", "ignored: pods run as the namespace's default ServiceAccount with no token mounted");
    in.optionalString("nameOverride").filter(s -> !s.isEmpty()).ifPresent(s -> in.warning(
        in.find("nameOverride").orElse(null), "nameOverride", "ignored: object names come from release"));
  }
}
