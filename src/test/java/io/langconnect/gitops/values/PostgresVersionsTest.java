package io.langconnect.gitops.values;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PostgresVersionsTest {

  @ParameterizedTest
  @CsvSource({"pg16,16", "pg17-trixie,17", "0.8.0-pg16,16", "16,16", "16.4,16", "16.4-bookworm,16", "17-alpine,17",
      "9.6,9", "15rc1-bookworm,"})
  void majorVersionOfATag(String tag, Integer major) {
    assertThat(PostgresVersions.major(tag)).isEqualTo(Optional.ofNullable(major));
  }

  @Test
  void tagsThatNameNoVersion() {
    assertThat(PostgresVersions.major("latest")).isEmpty();
    assertThat(PostgresVersions.major("sha256:" + "a".repeat(64))).isEmpty();
    assertThat(PostgresVersions.major("0.8.0")).as("a pgvector release, not a PostgreSQL one").isEmpty();
  }

  @Test
  void serverVersionNum() {
    assertThat(PostgresVersions.majorOf(160004)).isEqualTo(16);
    assertThat(PostgresVersions.majorOf(150013)).isEqualTo(15);
    assertThat(PostgresVersions.majorOf(90624)).isEqualTo(9);
  }
}
