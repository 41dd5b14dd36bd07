package io.langconnect.gitops.values;

import static org.assertj.core.api.Assertions.assertThat;

import io.langconnect.gitops.cli.CliTest;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.SopsTool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Values files encrypted by the real sops (built from Go modules) for keys made by the real age-keygen (Debian's
 * package), read by the controller's own decryption: never files made by the project's code.
 */
@ExtendWith(LocalControlPlane.class)
class SopsIT {

  private static final String PLAIN = """
      # The team's database
      namespace: rag-staging
      postgres:
        auth:
          password: s3cr3t-db-password
        persistence:
          size: 20Gi
      secrets:
        OPENAI_API_KEY: sk-test-openai-key
      langconnect:
        image:
          repository: registry.example.com/langconnect
        replicaCount: 2
        env:
          - name: LOG_LEVEL
            value: debug
          - name: FEATURE
            value: "on"
      """;

  @TempDir
  Path tmp;

  private SopsTool sops;
  private SopsTool.Key key;

  @BeforeEach
  void keys(LocalControlPlane plane) throws Exception {
    sops = new SopsTool(plane, tmp);
    key = sops.newKey();
  }

  @Test
  void aFileSopsEncryptedReadsAsExactlyThePlainValues() throws Exception {
    String encrypted = sops.encrypt(PLAIN, key.recipient());
    assertThat(encrypted).doesNotContain("s3cr3t-db-password").contains("ENC[AES256_GCM,");

    ValuesFolder.Environment read = load(encrypted, keys());
    ValuesFolder.Environment plain = load(PLAIN, Sops.Keys.NONE);

    assertThat(read.problems()).isEmpty();
    assertThat(read.values()).isPresent().isEqualTo(plain.values());
    assertThat(read.values().get().postgres().auth().password()).hasValue("s3cr3t-db-password");
    assertThat(read.values().get().langconnect().secrets()).containsEntry("OPENAI_API_KEY", "sk-test-openai-key");
  }

  @Test
  void anEncryptedRegexFileKeepsTheRestReadableAndStillChecksItsMac() throws Exception {
    String encrypted = sops.encrypt(PLAIN, key.recipient(), "--encrypted-regex", "^(password|secrets)$");
    assertThat(encrypted).contains("namespace: rag-staging").doesNotContain("s3cr3t-db-password")
        .doesNotContain("sk-test-openai-key");
    assertThat(load(encrypted, keys()).values()).isEqualTo(load(PLAIN, Sops.Keys.NONE).values());

    // A plain value sops left readable is still covered by the MAC: changing it is refused.
    String edited = encrypted.replace("size: 20Gi", "size: 1Gi");
    assertThat(single(load(edited, keys()))).contains("values-staging.yaml:").contains("sops.mac")
        .contains("do not match the file's MAC");
  }

  @Test
  void aTamperedValueATamperedMacAnotherRecipientOrNoKeyIsOneClearLine() throws Exception {
    String encrypted = sops.encrypt(PLAIN, key.recipient());

    String tamperedValue = tamper(encrypted, "password: ENC[AES256_GCM,data:");
    assertThat(single(load(tamperedValue, keys()))).contains("postgres.auth.password")
        .contains("cannot be decrypted with the file's data key");

    String tamperedMac = tamper(encrypted, "mac: ENC[AES256_GCM,data:");
    assertThat(single(load(tamperedMac, keys()))).contains("sops.mac").contains("MAC cannot be read");

    String forOther = sops.encrypt(PLAIN, sops.newKey().recipient());
    assertThat(single(load(forOther, keys()))).contains("is encrypted for age1").contains("none of the 1 age key(s)");

    assertThat(single(load(encrypted, Sops.Keys.NONE))).contains("no age key is configured");
  }

  private static boolean notAboutPersistence(Problem problem) {
    return !problem.keyPath().equals("postgres.persistence.enabled");
  }

  @Test
  void productionTakesSecretsOnlyEncrypted() throws Exception {
    String prod = PLAIN.replace("namespace: rag-staging", "namespace: rag-prod");
    ValuesFolder.Environment plain = ValuesFolder.load(Map.of("values-prod.yaml", prod), "", NamespacePolicy.defaults())
        .get(0);
    assertThat(plain.isValid()).isFalse();
    // (Its database has no persistence: warned of on its own, not the subject here.)
    assertThat(plain.problems().stream().filter(SopsIT::notAboutPersistence).map(Problem::toString)).containsExactly(
        "values-prod.yaml:5: warning: postgres.auth.password: is plain text in git for the production environment"
            + " \"prod\"; encrypt it (sops --encrypt --age <recipient> --encrypted-regex '^(password|secrets)$'"
            + " --in-place values-prod.yaml) or use postgres.auth.existingSecret",
        "values-prod.yaml:9: secrets.OPENAI_API_KEY: is plain text in git for the production environment \"prod\";"
            + " expected it encrypted: sops --encrypt --age <recipient> --encrypted-regex '^(password|secrets)$'"
            + " --in-place values-prod.yaml");

    String encrypted = sops.encrypt(prod, key.recipient(), "--encrypted-regex", "^(password|secrets)$");
    Sops.Keys keys = keys();
    ValuesFolder.Environment read = ValuesFolder.load(Map.of("values-prod.yaml", encrypted), "",
        NamespacePolicy.defaults(), () -> keys).get(0);
    assertThat(read.problems().stream().filter(SopsIT::notAboutPersistence)).isEmpty();
    assertThat(read.values().get().langconnect().secrets()).containsEntry("OPENAI_API_KEY", "sk-test-openai-key");
  }

  @Test
  void noProblemEverShowsADecryptedValue() throws Exception {
    String wrongType = PLAIN.replace("replicaCount: 2", "replicaCount: not-a-number");
    String encrypted = sops.encrypt(wrongType, key.recipient());
    ValuesFolder.Environment read = load(encrypted, keys());
    assertThat(read.isValid()).isFalse();
    assertThat(String.join("\n", read.problems().stream().map(Problem::toString).toList()))
        .contains("langconnect.replicaCount").contains("an encrypted value").doesNotContain("not-a-number")
        .doesNotContain("s3cr3t-db-password");
  }

  @Test
  void theCommandsReadEncryptedFilesWithTheConfiguredKeyFile() throws Exception {
    Path values = Files.createDirectories(tmp.resolve("values"));
    Files.writeString(values.resolve("values-staging.yaml"), sops.encrypt(PLAIN, key.recipient()));
    Path config = Files.writeString(tmp.resolve("controller.yaml"),
        "decryption:\n  ageKeyFile: " + key.file() + "\n");

    CliTest.Run noKey = CliTest.run("validate", "--values", values.toString());
    assertThat(noKey.exit()).isEqualTo(1);
    assertThat(noKey.out() + noKey.err()).contains("no age key is configured").doesNotContain("sk-test-openai-key");

    assertThat(CliTest.run("validate", "--values", values.toString(), "--config", config.toString()).exit()).isZero();
    CliTest.Run rendered = CliTest.run("render", "--values", values.toString(), "--env", "staging", "--config",
        config.toString());
    String openAiKey = java.util.Base64.getEncoder().encodeToString("sk-test-openai-key".getBytes());
    assertThat(rendered.exit()).isZero();
    assertThat(rendered.out()).contains("OPENAI_API_KEY: (hidden, sha256 ").doesNotContain(openAiKey);
    assertThat(CliTest.run("render", "--values", values.toString(), "--env", "staging", "--config", config.toString(),
        "--show-secrets").out()).contains("OPENAI_API_KEY: " + openAiKey);
  }

  private Sops.Keys keys() {
    return Sops.Keys.parse(key.text(), "key.txt");
  }

  private static ValuesFolder.Environment load(String text, Sops.Keys keys) {
    return ValuesFolder.load(Map.of("values-staging.yaml", text), "", NamespacePolicy.defaults(), () -> keys).get(0);
  }

  private static String single(ValuesFolder.Environment environment) {
    assertThat(environment.isValid()).isFalse();
    assertThat(environment.problems()).hasSize(1);
    return environment.problems().get(0).toString();
  }

  /** Flips one character of the base64 data that follows {@code marker}. */
  private static String tamper(String text, String marker) {
    int at = text.indexOf(marker) + marker.length();
    assertThat(at).isGreaterThan(marker.length());
    char c = text.charAt(at);
    return text.substring(0, at) + (c == 'A' ? 'B' : 'A') + text.substring(at + 1);
  }
}
