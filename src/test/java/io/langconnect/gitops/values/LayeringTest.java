package io.langconnect.gitops.values;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class LayeringTest {

  @Test
  void keyInSharedValuesReachesEveryEnvironment() {
    ValuesFixture folder = ValuesFixture.folder()
        .shared(ValuesFixture.MINIMAL + "postgres:\n  persistence:\n    size: 30Gi\n")
        .env("staging", "{}")
        .env("prod", "postgres:\n  persistence:\n    enabled: true\n  auth:\n    existingSecret: db\n");

    assertThat(folder.valid("staging").postgres().persistence().size()).isEqualTo("30Gi");
    assertThat(folder.valid("prod").postgres().persistence().size()).isEqualTo("30Gi");
    assertThat(folder.valid("prod").postgres().persistence().enabled()).isTrue();
    assertThat(folder.valid("staging").postgres().persistence().enabled()).isFalse();
  }

  @Test
  void environmentFileWinsAndMapsMergeDeeply() {
    ValuesFixture folder = ValuesFixture.folder()
        .shared(ValuesFixture.MINIMAL + "postgres:\n  image:\n    tag: pg15\n    pullPolicy: Always\n")
        .env("staging", "postgres:\n  image:\n    tag: pg16\n");

    EnvironmentValues staging = folder.valid("staging");
    assertThat(staging.postgres().image().tag()).isEqualTo("pg16");
    assertThat(staging.postgres().image().pullPolicy()).isEqualTo("Always");
    assertThat(staging.postgres().image().repository()).isEqualTo("pgvector/pgvector");
  }

  @Test
  void listsReplaceInsteadOfMerging() {
    ValuesFixture folder = ValuesFixture.folder()
        .shared("langconnect:\n  image:\n    repository: lc\n  env:\n    - name: A\n      value: one\n    - name: B\n      value: two\n")
        .env("staging", "langconnect:\n  env:\n    - name: C\n      value: three\n");

    assertThat(folder.valid("staging").langconnect().env())
        .extracting(EnvironmentValues.EnvVar::name).containsExactly("C");
  }

  @Test
  void nullInEnvironmentFileRemovesSharedKey() {
    ValuesFixture folder = ValuesFixture.folder()
        .shared(ValuesFixture.MINIMAL + "postgres:\n  auth:\n    password: shared-secret\n")
        .env("staging", "postgres:\n  auth:\n    password: null\n    existingSecret: my-db\n");

    EnvironmentValues staging = folder.valid("staging");
    assertThat(staging.postgres().auth().password()).isEmpty();
    assertThat(staging.postgres().auth().existingSecret()).contains("my-db");
    assertThat(folder.environment("staging").problems()).isEmpty();
  }

  @Test
  void defaultsAreTheReferenceChartsAndNamespaceFollowsTheEnvironment() {
    EnvironmentValues dev = ValuesFixture.folder().env("dev", ValuesFixture.MINIMAL).valid("dev");

    assertThat(dev.release()).isEqualTo("langconnect");
    assertThat(dev.namespace()).isEqualTo("langconnect-dev");
    assertThat(dev.postgres().image().reference()).isEqualTo("pgvector/pgvector:pg16");
    assertThat(dev.postgres().auth().username()).isEqualTo("postgres");
    assertThat(dev.postgres().auth().database()).isEqualTo("postgres");
    assertThat(dev.postgres().persistence()).isEqualTo(
        new EnvironmentValues.Persistence(false, "8Gi", "", "ReadWriteOnce", Optional.empty(), Optional.empty()));
    assertThat(dev.langconnect().replicas()).isEqualTo(1);
    assertThat(dev.production()).isFalse();
  }

  @Test
  void productionVolumesAreRetainedUnlessTheValuesOptOut() {
    ValuesFixture folder = ValuesFixture.folder()
        .env("prod", ValuesFixture.MINIMAL + "postgres:\n  auth:\n    password: p\n")
        .env("prod-eu", ValuesFixture.MINIMAL + "production: true\npostgres:\n  auth:\n    password: p\n"
            + "  persistence:\n    reclaimPolicy: Delete\n")
        .env("dev", ValuesFixture.MINIMAL);
    assertThat(folder.valid("prod").production()).isTrue();
    assertThat(folder.valid("prod").postgres().persistence().reclaimPolicy()).contains("Retain");
    assertThat(folder.valid("prod-eu").postgres().persistence().reclaimPolicy()).contains("Delete");
    assertThat(folder.valid("dev").postgres().persistence().reclaimPolicy()).as("the StorageClass decides").isEmpty();
  }
}
