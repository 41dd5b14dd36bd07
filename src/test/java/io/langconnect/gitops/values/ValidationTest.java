package io.langconnect.gitops.values;

import static io.langconnect.gitops.values.ValuesFixture.MINIMAL;
import static io.langconnect.gitops.values.ValuesFixture.problemsAlone;
import static io.langconnect.gitops.values.ValuesFixture.problemsOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every validation rule, fed a bad value: the one line names the file, the line, the key and what was expected. */
class ValidationTest {

  @Test
  void unknownKeySuggestsTheClosestKnownKey() {
    assertThat(problemsOf("postgres:\n  persistence:\n    enabeld: true\n"))
        .containsExactly("values-dev.yaml:3: postgres.persistence.enabeld: unknown key;"
            + " did you mean postgres.persistence.enabled?");
  }

  @Test
  void unknownKeyInTheWrongPlaceSuggestsWhereItBelongs() {
    assertThat(problemsOf("postgres:\n  size: 20Gi\n"))
        .singleElement().asString()
        .contains("postgres.size: unknown key; did you mean postgres.persistence.size?");
  }

  @Test
  void stringWhereABooleanGoesIsAnErrorNotACoercion() {
    assertThat(problemsOf("postgres:\n  persistence:\n    enabled: \"true\"\n"))
        .containsExactly("values-dev.yaml:3: postgres.persistence.enabled: the string \"true\" is not a boolean;"
            + " expected true or false");
    assertThat(problemsOf("postgres:\n  persistence:\n    enabled: yes\n"))
        .singleElement().asString().contains("the string \"yes\" is not a boolean");
  }

  @Test
  void numberWhereTextGoesAsksForQuotes() {
    assertThat(problemsOf("langconnect:\n  env:\n    DEBUG: true\n"))
        .singleElement().asString()
        .startsWith("values-dev.yaml:3: langconnect.env.DEBUG: the boolean true is not text; expected a string");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "postgres:\\n  persistence:\\n    size: 20Gb | postgres.persistence.size: \"20Gb\" is not valid; expected a Kubernetes quantity",
      "postgres:\\n  persistence:\\n    size: 0 | postgres.persistence.size: \"0\" is not valid; expected a quantity larger than zero",
      "postgres:\\n  resources:\\n    limits:\\n      cpu: lots | postgres.resources.limits.cpu: \"lots\" is not valid; expected a Kubernetes quantity",
      "langconnect:\\n  resources:\\n    requests:\\n      memory: 12XB | langconnect.resources.requests.memory: \"12XB\" is not valid",
      "postgres:\\n  resources:\\n    limits:\\n      gpu: 1 | postgres.resources.limits.gpu: unknown key",
      "namespace: Team_A | namespace: \"Team_A\" is not valid; expected a DNS-1123 label",
      "release: 9lives | release: \"9lives\" is not valid; expected a DNS-1035 label",
      "postgres:\\n  image:\\n    repository: pgvector/pgvector:pg16 | postgres.image.repository: \"pgvector/pgvector:pg16\" is not valid; expected an image repository",
      "postgres:\\n  image:\\n    repository: PGVector/pgvector | postgres.image.repository: \"PGVector/pgvector\" is not valid",
      "postgres:\\n  image:\\n    tag: -bad | postgres.image.tag: \"-bad\" is not valid; expected an image tag",
      "langconnect:\\n  image:\\n    pullPolicy: always | langconnect.image.pullPolicy: \"always\" is not valid; expected one of Always, IfNotPresent, Never",
      "postgres:\\n  persistence:\\n    accessMode: RWO | postgres.persistence.accessMode: \"RWO\" is not valid; expected one of ReadWriteOnce",
      "backup:\\n  objectStore:\\n    destinationPath: /mnt/backups | backup.objectStore.destinationPath: \"/mnt/backups\" is not valid; expected s3://bucket or s3://bucket/prefix",
      "backup:\\n  objectStore:\\n    destinationPath: s3://Bad_Bucket | backup.objectStore.destinationPath: \"s3://Bad_Bucket\" is not valid",
      "backup:\\n  objectStore:\\n    endpointURL: ftp://s3.example | backup.objectStore.endpointURL: \"ftp://s3.example\" is not valid; expected an http:// or https:// URL",
      "backup:\\n  objectStore:\\n    s3Credentials:\\n      accessKeyId: {name: s3} | backup.objectStore.s3Credentials.accessKeyId.key: is required; expected {name: SECRET, key: KEY}",
      "postgres:\\n  persistence:\\n    reclaimPolicy: Recycle | postgres.persistence.reclaimPolicy: \"Recycle\" is not valid; expected Retain or Delete",
      "langconnect:\\n  env:\\n    1ST_VAR: x | langconnect.env.1ST_VAR: \"1ST_VAR\" is not valid; expected an environment variable name",
      "langconnect:\\n  env:\\n    - name: MY-VAR\\n      value: x | langconnect.env[0].name: \"MY-VAR\" is not valid; expected an environment variable name",
      "langconnect:\\n  env:\\n    POSTGRES_HOST: elsewhere | langconnect.env: POSTGRES_HOST is set by the controller",
      "langconnect:\\n  replicaCount: -1 | langconnect.replicaCount: -1 is out of range; expected a whole number from 0 to 1000",
      "langconnect:\\n  replicas: two | langconnect.replicas: the string \"two\" is not a whole number",
      "postgres:\\n  service:\\n    type: LoadBalancer | postgres.service.type: \"LoadBalancer\" is not allowed; expected ClusterIP",
      "langconnect:\\n  service:\\n    port: 70000 | langconnect.service.port: 70000 is out of range; expected a whole number from 1 to 65535",
      "postgres:\\n  auth:\\n    username: \"bob; rm -rf /\" | postgres.auth.username: \"bob; rm -rf /\" is not valid; expected a plain PostgreSQL name",
      "postgres:\\n  livenessProbe:\\n    successThreshold: 2 | postgres.livenessProbe.successThreshold: 2 is not allowed for a liveness probe; expected 1",
      "postgres:\\n  resources:\\n    limits:\\n      memory: 1Gi\\n    requests:\\n      memory: 2Gi | postgres.resources.requests.memory: 2Gi is above the limit 1Gi",
      "podAnnotations:\\n  team: 7 | podAnnotations.team: the number 7 is not text; expected a string (quote it: \"7\")",
      "postgres: yes | postgres: the string \"yes\" is not a mapping; expected keys under postgres:",
      "backup:\\n  schedule: every day | backup.schedule: \"every day\" is not valid; expected a cron schedule",
      "backup:\\n  schedule: 0 3 * * * * | backup.schedule: \"0 3 * * * *\" is not valid; expected a cron schedule",
      "backup:\\n  timeZone: Mars/Olympus | backup.timeZone: \"Mars/Olympus\" is not valid; expected an IANA time zone name",
      "backup:\\n  retention: 0 | backup.retention: 0 is out of range; expected a whole number from 1 to 1000",
      "backup:\\n  storage:\\n    size: lots | backup.storage.size: \"lots\" is not valid; expected a Kubernetes quantity",
      "backup:\\n  enabled: sometimes | backup.enabled: the string \"sometimes\" is not a boolean",
  })
  void badValueIsNamedWithItsKeyAndWhatWasExpected(String yaml, String expected) {
    List<String> problems = problemsOf(yaml.replace("\\n", "\n") + "\n");
    assertThat(problems).anySatisfy(line -> assertThat(line).startsWith("values-dev.yaml:").contains(expected));
  }

  @Test
  void everyProblemOfAFileIsReportedAtOnce() {
    List<String> problems = problemsAlone("""
        langconnect:
          replicaCount: many
        postgres:
          persistence:
            enabled: "no"
            size: big
          image:
            pullPolicy: sometimes
        """);
    assertThat(problems).hasSize(5);
    assertThat(problems).anySatisfy(p -> assertThat(p).contains("langconnect.image.repository: is required"));
  }

  @Test
  void langconnectImageIsRequired() {
    assertThat(problemsAlone("langconnect:\n  replicaCount: 1\n"))
        .containsExactly("values-dev.yaml:1: langconnect.image.repository: is required;"
            + " expected the LangConnect image you build and push (no public image exists)");
  }

  @Test
  void placeholderPasswordIsAlwaysRefused() {
    assertThat(problemsOf("postgres:\n  auth:\n    password: CHANGE_ME_IN_PRODUCTION\n"))
        .containsExactly("values-dev.yaml:3: postgres.auth.password: \"CHANGE_ME_IN_PRODUCTION\" is the reference"
            + " chart's placeholder; expected a real password, or postgres.auth.existingSecret naming a Secret with"
            + " key postgres-password");
  }

  @ParameterizedTest
  @CsvSource({"prod,''", "production,postgres"})
  void weakPasswordIsRefusedForProductionByName(String env, String password) {
    ValuesFolder.Environment result = ValuesFixture.folder()
        .shared(MINIMAL).env(env, "postgres:\n  auth:\n    password: \"" + password + "\"\n").environment(env);
    assertThat(result.isValid()).isFalse();
    assertThat(result.problems()).filteredOn(Problem::isError).singleElement().asString()
        .startsWith("values-" + env + ".yaml:3: postgres.auth.password:")
        .contains("is refused for the production environment \"" + env + "\"; expected a strong password");
  }

  @Test
  void weakPasswordIsRefusedWhereProductionIsDeclared() {
    assertThat(problemsOf("production: true\n" + "postgres:\n  auth:\n    password: postgres\n"))
        .filteredOn(p -> !p.contains(": warning: ")).singleElement().asString()
        .contains("\"postgres\" is refused for the production environment \"dev\"");
  }

  @Test
  void aProductionEnvironmentWithoutPersistenceIsWarnedOf() {
    assertThat(problemsOf("production: true\npostgres:\n  persistence:\n    enabled: false\n")).singleElement()
        .asString().isEqualTo("values-dev.yaml:4: warning: postgres.persistence.enabled: is false for a production"
            + " environment: its database lives in an emptyDir and starts empty whenever its pod does; expected true");
    assertThat(problemsOf("postgres:\n  persistence:\n    enabled: false\n")).as("not production").isEmpty();
    assertThat(problemsOf("postgres:\n  auth:\n    password: postgres\n")).isEmpty();
  }

  @Test
  void yamlSyntaxErrorGivesFileLineAndColumn() {
    assertThat(problemsAlone("langconnect:\n  image: {repository: x\npostgres: 1\n"))
        .singleElement().asString()
        .matches("values-dev\\.yaml:\\d+: YAML syntax error \\(line \\d+, column \\d+\\): .+");
  }

  @Test
  void duplicateKeyIsAnError() {
    assertThat(problemsOf("release: a\nrelease: b\n"))
        .containsExactly("values-dev.yaml:2: release: the key appears twice in one mapping; expected each key once");
  }

  @Test
  void badEnvironmentFileNameIsNamed() {
    ValuesFolder.Environment env = ValuesFixture.folder().env("Prod_EU", MINIMAL).environment("Prod_EU");
    assertThat(env.problems()).singleElement().asString()
        .startsWith("values-Prod_EU.yaml: environment name \"Prod_EU\" is not valid; expected a DNS-1123 label");
  }

  @Test
  void oneBadEnvironmentNeverBlocksAnother() {
    ValuesFixture folder = ValuesFixture.folder()
        .shared(MINIMAL)
        .env("broken", "postgres: [unclosed\n")
        .env("staging", "postgres:\n  persistence:\n    enabled: false\n");

    assertThat(folder.environment("broken").isValid()).isFalse();
    assertThat(folder.valid("staging").namespace()).isEqualTo("langconnect-staging");
  }

  @Test
  void problemInSharedFileNamesTheSharedFile() {
    ValuesFolder.Environment env = ValuesFixture.folder()
        .shared(MINIMAL + "postgres:\n  persistence:\n    enabled: maybe\n")
        .env("staging", "{}").environment("staging");
    assertThat(env.problems()).singleElement().asString()
        .startsWith("values.yaml:6: postgres.persistence.enabled: the string \"maybe\" is not a boolean");
  }

  @Test
  void referenceChartKeysOutsideTheStackAreWarningsNotErrors() {
    ValuesFolder.Environment env = ValuesFixture.folder().env("staging", MINIMAL + """
        toolServer:
          replicaCount: 2
        web:
          containerPort: 3000
        serviceAccount:
          create: true
        nameOverride: ""
        fullnameOverride: ""
        """).environment("staging");
    assertThat(env.isValid()).isTrue();
    assertThat(env.problems()).allMatch(p -> !p.isError())
        .extracting(Problem::keyPath).containsExactlyInAnyOrder("toolServer", "web", "serviceAccount");
  }

  @Test
  void aTagWithoutMajorVersionOnPersistentProductionIsAWarning() {
    ValuesFolder.Environment prod = ValuesFixture.folder().shared(MINIMAL)
        .env("prod", "postgres:\n  image:\n    tag: latest\n  persistence:\n    enabled: true\n").environment("prod");
    assertThat(prod.isValid()).isTrue();
    assertThat(prod.problems()).singleElement().asString().isEqualTo("values-prod.yaml:3: warning: postgres.image.tag:"
        + " \"latest\" names no PostgreSQL major version, so a major upgrade cannot be caught before it starts on the"
        + " data of production; expected a tag such as pg16 or 16.4");
    assertThat(problemsOf("postgres:\n  image:\n    tag: latest\n  persistence:\n    enabled: true\n"))
        .as("not production").isEmpty();
  }

  @Test
  void existingClaimNeedsPersistence() {
    assertThat(problemsOf("postgres:\n  persistence:\n    existingClaim: old-data\n")).containsExactly(
        "values-dev.yaml:3: postgres.persistence.existingClaim: is set but postgres.persistence.enabled is false;"
            + " expected enabled: true to use the claim");
  }

  @Test
  void anEnvironmentLivesOnTheControllersOwnClusterUnlessItNamesAConfiguredOne() {
    Map<String, String> files = Map.of("values.yaml", ValuesFixture.MINIMAL,
        "values-staging.yaml", "namespace: langconnect-staging\n",
        "values-prod.yaml", "namespace: langconnect-prod\ncluster: eu-prod\n");
    NamespacePolicy withEuProd = NamespacePolicy.defaults().onClusters(List.of("eu-prod"));
    Map<String, String> placed = ValuesFolder.load(files, "", withEuProd).stream()
        .collect(java.util.stream.Collectors.toMap(ValuesFolder.Environment::name, e -> e.values().get().cluster()));
    assertThat(placed).isEqualTo(Map.of("staging", "in-cluster", "prod", "eu-prod"));
  }

  @Test
  void anUnknownClusterIsAnErrorNamingTheFileTheLineAndTheKnownClusters() {
    NamespacePolicy withEuProd = NamespacePolicy.defaults().onClusters(List.of("eu-prod"));
    ValuesFolder.Environment prod = ValuesFolder.load(Map.of("values.yaml", ValuesFixture.MINIMAL,
        "values-prod.yaml", "namespace: langconnect-prod\ncluster: us-prod\n"), "", withEuProd).get(0);
    assertThat(prod.isValid()).isFalse();
    assertThat(prod.problems()).filteredOn(Problem::isError).singleElement().asString().isEqualTo("values-prod.yaml:2: cluster: \"us-prod\" is not"
        + " a cluster the controller knows; expected one of: eu-prod, in-cluster (clusters: in the controller config"
        + " names the others)");
  }

  private static final String EXTERNAL = """
      postgres:
        engine: external
        external:
          host: rag.cluster-abc.eu-west-1.rds.amazonaws.com
          database: rag
          username: rag_app
          existingSecret: rag-db
      """;

  @Test
  void anExternalDatabaseBindsItsConnectionAndKeepsItsDataWithBackupsOn() {
    EnvironmentValues values = ValuesFixture.folder().shared(MINIMAL).env("dev", EXTERNAL + "    sslMode: verify-full\n"
        + "    caSecret: rds-ca\n").valid("dev");
    assertThat(values.postgres().engine()).isEqualTo(EnvironmentValues.Engine.EXTERNAL);
    assertThat(values.postgres().external()).hasValue(new EnvironmentValues.External(
        "rag.cluster-abc.eu-west-1.rds.amazonaws.com", 5432, java.util.Optional.of("verify-full"),
        java.util.Optional.of("rds-ca")));
    assertThat(values.postgres().auth()).isEqualTo(new EnvironmentValues.Auth("rag_app", java.util.Optional.empty(), "rag",
        java.util.Optional.of("rag-db")));
    assertThat(values.backup().enabled()).as("its data is persistent: backups on by default").isTrue();
    assertThat(ValuesFixture.folder().shared(MINIMAL).env("dev", "").valid("dev").postgres().engine())
        .isEqualTo(EnvironmentValues.Engine.BUNDLED);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "postgres:\\n  engine: rds | values-dev.yaml:2: postgres.engine: \"rds\" is not valid; expected one of bundled, external, cloudnative-pg",
      "postgres:\\n  engine: external\\n  external:\\n    existingSecret: db | values-dev.yaml:3: postgres.external.host: is required with postgres.engine external",
      "postgres:\\n  engine: external\\n  external:\\n    host: db.example.com | values-dev.yaml:3: postgres.external.existingSecret: is required with postgres.engine external",
      "postgres:\\n  engine: external\\n  external:\\n    host: db_1;rm -rf /\\n    existingSecret: db | values-dev.yaml:4: postgres.external.host: \"db_1;rm -rf /\" is not valid; expected a host name",
      "postgres:\\n  engine: external\\n  external:\\n    host: db.example.com\\n    port: 70000\\n    existingSecret: db | values-dev.yaml:5: postgres.external.port: 70000 is out of range; expected a whole number from 1 to 65535",
      "postgres:\\n  engine: external\\n  external:\\n    host: db.example.com\\n    sslMode: strict\\n    existingSecret: db | values-dev.yaml:5: postgres.external.sslMode: \"strict\" is not valid; expected one of disable, allow, prefer, require, verify-ca, verify-full",
      "postgres:\\n  engine: external\\n  external:\\n    host: db.example.com\\n    caSecret: ca\\n    existingSecret: db | values-dev.yaml:5: postgres.external.caSecret: is set but sslMode is unset, which verifies no certificate",
      "postgres:\\n  engine: external\\n  external:\\n    host: db.example.com\\n    existingSecret: db\\n  persistence:\\n    enabled: true | values-dev.yaml:7: postgres.persistence.enabled: is true but postgres.engine is external",
  })
  void aBadExternalDatabaseIsNamedWithItsKeyAndWhatWasExpected(String yaml, String expected) {
    assertThat(problemsOf(yaml.replace("\\n", "\n"))).anySatisfy(line -> assertThat(line).startsWith(expected));
  }

  @Test
  void theBundledDatabasesCredentialsAreIgnoredForAnExternalOneAndTheExternalKeysForTheBundledOne() {
    assertThat(problemsOf(EXTERNAL + "  auth:\n    password: hunter2\n")).containsExactly("values-dev.yaml:9: warning:"
        + " postgres.auth.password: ignored: with postgres.engine external the connection comes from"
        + " postgres.external.existingSecret");
    assertThat(problemsOf(EXTERNAL.replace("engine: external", "engine: bundled"))).singleElement().asString()
        .endsWith("postgres.external: ignored: postgres.engine is bundled; set postgres.engine: external to use it");
  }

  @Test
  void cloudnativePgDefaultsToItsOwnApplicationUserAndRefusesWhatItCannotRun() {
    EnvironmentValues values = ValuesFixture.folder().shared(MINIMAL).env("dev", "postgres:\n  engine: cloudnative-pg\n"
        + "  image: {repository: ghcr.io/cloudnative-pg/postgresql, tag: \"17\"}\n").valid("dev");
    assertThat(values.postgres().auth()).isEqualTo(new EnvironmentValues.Auth("app", java.util.Optional.empty(), "app",
        java.util.Optional.empty()));
    assertThat(values.postgres().instances()).isEqualTo(1);
    assertThat(values.backup().enabled()).isTrue();
    assertThat(problemsOf("postgres:\n  engine: cloudnative-pg\n  image:\n    tag: pg17\n")).containsExactly(
        "values-dev.yaml:4: postgres.image.tag: \"pg17\" does not start with a PostgreSQL major version, which"
            + " CloudNativePG reads from the tag; expected a tag such as 17 or 17.6");
    assertThat(problemsOf("postgres:\n  engine: cloudnative-pg\n  image: {tag: \"17\"}\n  persistence:\n"
        + "    enabled: false\n")).singleElement().asString().startsWith("values-dev.yaml:5: postgres.persistence.enabled:"
        + " is false but CloudNativePG always keeps each instance's data on a claim of its own");
    assertThat(problemsOf("postgres:\n  engine: cloudnative-pg\n  image: {tag: \"17\"}\n  auth: {username: postgres}\n"))
        .singleElement().asString().contains("postgres.auth.username: \"postgres\" is CloudNativePG's superuser");
    assertThat(problemsOf("postgres:\n  instances: 3\n")).containsExactly("values-dev.yaml:2: warning:"
        + " postgres.instances: ignored: only postgres.engine cloudnative-pg runs replicas; the bundled engine runs one server");
  }
}
