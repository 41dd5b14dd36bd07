package io.langconnect.gitops.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.ObjectRef;
import io.langconnect.gitops.values.EnvironmentValues;
import io.langconnect.gitops.values.ValuesFixture;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What each guard refuses, and the one line a user reads when it does. */
class GuardsTest {

  private static EnvironmentValues prod(String yaml) {
    return ValuesFixture.folder().shared(ValuesFixture.MINIMAL).env("prod", yaml).valid("prod");
  }

  private static final String PERSISTENT = "postgres:\n  persistence:\n    enabled: true\n";

  @Test
  void missingExistingSecretIsReportedBeforeAnythingIsApplied() {
    EnvironmentValues values = prod("postgres:\n  auth:\n    existingSecret: langconnect-postgres-auth\n");
    assertThat(Guards.missingSecret(values, Optional.empty())).hasValueSatisfying(m -> assertThat(m)
        .startsWith("values-prod.yaml: postgres.auth.existingSecret: Secret langconnect-postgres-auth in namespace"
            + " langconnect-prod does not exist, so neither pod could start; nothing was applied.")
        .contains("create secret generic langconnect-postgres-auth --from-literal=postgres-password=..."));
    Secret withoutKey = new SecretBuilder().addToStringData("password", "x").build();
    assertThat(Guards.missingSecret(values, Optional.of(withoutKey))).hasValueSatisfying(m ->
        assertThat(m).contains("has no key postgres-password"));
    Secret good = new SecretBuilder().addToData("postgres-password", "c2VjcmV0").build();
    assertThat(Guards.missingSecret(values, Optional.of(good))).isEmpty();
    assertThat(Guards.missingSecret(prod(""), Optional.empty())).as("no existingSecret: nothing to check").isEmpty();
  }

  @Test
  void majorVersionChangeOnPersistentDataIsRefusedNamingFileKeyAndBothVersions() {
    EnvironmentValues values = prod(PERSISTENT + "  image:\n    tag: pg17\n");
    assertThat(Guards.majorUpgrade(values, Optional.of(16), "server_version_num")).hasValue(
        "values-prod.yaml:5: postgres.image.tag: pg17 is PostgreSQL 17 but the data of prod was written by PostgreSQL"
            + " 16 (server_version_num), which 17 cannot open; refused, nothing was applied. Run `langconnect-gitops"
            + " backup --env prod`, then restore into a new environment, or set postgres.upgrade.allowMajor: true and"
            + " follow the README's major-upgrade procedure");
    assertThat(Guards.majorUpgrade(values, Optional.of(17), "server_version_num")).isEmpty();
    assertThat(Guards.majorUpgrade(values, Optional.empty(), "none")).as("a new environment").isEmpty();
    assertThat(Guards.majorUpgrade(prod(PERSISTENT + "  image:\n    tag: pg17\n  upgrade:\n    allowMajor: true\n"),
        Optional.of(16), "server_version_num")).isEmpty();
    assertThat(Guards.majorUpgrade(prod("postgres:\n  image:\n    tag: pg17\n"), Optional.of(16), "tag"))
        .as("an emptyDir database has no data to lose").isEmpty();
  }

  @Test
  void newReleaseOrNamespaceWouldStartAnEmptyDatabaseUnlessTheOldClaimIsUsedOrConfirmed() {
    Inventory previous = new Inventory("prod", "langconnect-prod", "r1", Map.of(
        new ObjectRef("apps/v1", "Deployment", "langconnect-prod", "langconnect-postgres"), new Inventory.Entry("h", "r1"),
        new ObjectRef("v1", "PersistentVolumeClaim", "langconnect-prod", "langconnect-postgres"), new Inventory.Entry("h", "r1")));
    Optional<ObjectRef> claim = Guards.dataClaim(previous);
    assertThat(claim).hasValue(new ObjectRef("v1", "PersistentVolumeClaim", "langconnect-prod", "langconnect-postgres"));

    assertThat(Guards.newDatabase(prod(PERSISTENT), claim, Optional.empty())).as("same release").isEmpty();

    EnvironmentValues renamed = prod("release: rag\n" + PERSISTENT);
    assertThat(Guards.newDatabase(renamed, claim, Optional.empty())).hasValueSatisfying(m -> assertThat(m)
        .startsWith("values-prod.yaml:1: release: rag in langconnect-prod would start an empty database beside the"
            + " data in PersistentVolumeClaim langconnect-postgres in langconnect-prod; held, nothing was applied.")
        .contains("Set postgres.persistence.existingClaim: langconnect-postgres to keep the data")
        .contains("`langconnect-gitops confirm-new-database --env prod`"));
    assertThat(Guards.newDatabase(prod("release: rag\n" + PERSISTENT + "    existingClaim: langconnect-postgres\n"),
        claim, Optional.empty())).as("the old claim, kept").isEmpty();
    assertThat(Guards.newDatabase(renamed, claim, Optional.of("langconnect-prod/rag"))).as("confirmed").isEmpty();
    assertThat(Guards.newDatabase(renamed, claim, Optional.of("langconnect-prod/other")))
        .as("a confirmation is for one target only").isPresent();

    EnvironmentValues moved = prod("namespace: rag-prod\n" + PERSISTENT);
    assertThat(Guards.newDatabase(moved, claim, Optional.empty())).hasValueSatisfying(m -> assertThat(m)
        .startsWith("values-prod.yaml:1: namespace: langconnect in rag-prod would start an empty database")
        .contains("A claim cannot move between namespaces"));
    assertThat(Guards.newDatabase(prod("release: rag\n"), claim, Optional.empty()))
        .as("the new environment keeps no data: nothing to protect it from").isEmpty();
    assertThat(Guards.newDatabase(renamed, Optional.empty(), Optional.empty())).as("an emptyDir database before").isEmpty();
  }

  @Test
  void aDataClaimThatIsGoneIsNotReplacedByAnEmptyOneUntilConfirmed() {
    Inventory previous = new Inventory("prod", "langconnect-prod", "r1", Map.of(
        new ObjectRef("apps/v1", "StatefulSet", "langconnect-prod", "langconnect-postgres"), new Inventory.Entry("h", "r1"),
        new ObjectRef("v1", "PersistentVolumeClaim", "langconnect-prod", "langconnect-postgres"), new Inventory.Entry("h", "r1")));
    Optional<ObjectRef> claim = Guards.dataClaim(previous);
    assertThat(claim).as("a StatefulSet's claim, as a Deployment's").isPresent();
    assertThat(Guards.claimLost(prod(PERSISTENT), claim, false, Optional.empty())).hasValueSatisfying(m -> assertThat(m)
        .startsWith("values-prod.yaml: postgres.persistence: PersistentVolumeClaim langconnect-postgres in"
            + " langconnect-prod, which held the data of prod, is gone (was the namespace deleted?)")
        .contains("Bring back a retained volume").contains("`langconnect-gitops confirm-new-database --env prod`"));
    assertThat(Guards.claimLost(prod(PERSISTENT), claim, true, Optional.empty())).as("still there").isEmpty();
    assertThat(Guards.claimLost(prod(PERSISTENT), claim, false, Optional.of("langconnect-prod/langconnect")))
        .as("confirmed").isEmpty();
    assertThat(Guards.claimLost(prod(PERSISTENT), Optional.empty(), false, Optional.empty())).as("a new environment")
        .isEmpty();
  }

  @Test
  void persistenceTurnedOffUnderADatabaseOnAClaimIsRefusedUnlessConfirmed() {
    Optional<ObjectRef> claim = Optional.of(new ObjectRef("v1", "PersistentVolumeClaim", "langconnect-prod",
        "langconnect-postgres"));
    assertThat(Guards.persistenceOff(prod("postgres:\n  persistence:\n    enabled: false\n"), claim, Optional.empty()))
        .hasValueSatisfying(m -> assertThat(m)
            .startsWith("values-prod.yaml: postgres.persistence.enabled: false (or unset: the default is false) would"
                + " move the database of prod off PersistentVolumeClaim langconnect-postgres onto an empty emptyDir;"
                + " refused, nothing was applied.")
            .contains("`langconnect-gitops confirm-new-database --env prod`"));
    assertThat(Guards.persistenceOff(prod(""), claim, Optional.empty())).as("the key removed").isPresent();
    assertThat(Guards.persistenceOff(prod(""), claim, Optional.of("langconnect-prod/langconnect"))).as("confirmed")
        .isEmpty();
    assertThat(Guards.persistenceOff(prod(""), Optional.empty(), Optional.empty())).as("never had a claim").isEmpty();
    assertThat(Guards.persistenceOff(prod(PERSISTENT), claim, Optional.empty())).as("still persistent").isEmpty();
  }

  @Test
  void anEngineChangeIsRefusedWhileTheOldEngineHoldsDataUnlessANewDatabaseIsConfirmed() {
    EnvironmentValues external = prod("postgres:\n  engine: external\n  external:\n    host: db.example.com\n"
        + "    existingSecret: rag-db\n");
    assertThat(Guards.engineChange(external, EnvironmentValues.Engine.BUNDLED, true, Optional.empty())).hasValue(
        "values-prod.yaml:2: postgres.engine: external would point prod at another, empty database, while its data stays"
            + " in the bundled database's claim (engine bundled); refused, nothing was applied. Data does not move by"
            + " itself: back up (`langconnect-gitops backup --env prod`) and copy the dump out, confirm with"
            + " `langconnect-gitops confirm-new-database --env prod` (a bundled database's claim and Secret are kept),"
            + " then `langconnect-gitops restore --env prod --from-file DUMP --confirm` (README: \"Change the database"
            + " engine\")");
    assertThat(Guards.engineChange(external, EnvironmentValues.Engine.BUNDLED, false, Optional.empty()))
        .as("an emptyDir database held nothing").isEmpty();
    assertThat(Guards.engineChange(external, EnvironmentValues.Engine.BUNDLED, true, Optional.of("langconnect-prod/langconnect")))
        .as("confirmed").isEmpty();
    assertThat(Guards.engineChange(external, EnvironmentValues.Engine.EXTERNAL, true, Optional.empty())).isEmpty();
    assertThat(Guards.engineChange(prod(PERSISTENT), EnvironmentValues.Engine.EXTERNAL, true, Optional.empty()))
        .hasValueSatisfying(m -> assertThat(m).contains("postgres.engine: bundled would point prod at another, empty"
            + " database, while its data stays in the external database it used (engine external)"));
  }

  @Test
  void aMissingCaSecretOfAnExternalDatabaseIsReportedBeforeAnythingIsApplied() {
    EnvironmentValues values = prod("postgres:\n  engine: external\n  external:\n    host: db.example.com\n"
        + "    existingSecret: rag-db\n    sslMode: verify-full\n    caSecret: rag-db-ca\n");
    assertThat(Guards.missingCaSecret(values, Optional.empty())).hasValueSatisfying(m -> assertThat(m).startsWith(
        "values-prod.yaml: postgres.external.caSecret: Secret rag-db-ca in namespace langconnect-prod does not exist,"
            + " so LangConnect could not start; nothing was applied"));
    assertThat(Guards.missingCaSecret(values, Optional.of(new SecretBuilder().addToData("ca.pem", "eA==").build())))
        .hasValueSatisfying(m -> assertThat(m).contains("has no key ca.crt"));
    assertThat(Guards.missingCaSecret(values, Optional.of(new SecretBuilder().addToData("ca.crt", "eA==").build()))).isEmpty();
  }
}
