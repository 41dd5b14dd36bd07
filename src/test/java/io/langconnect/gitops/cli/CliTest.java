package io.langconnect.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The command line as a user's script sees it: exit codes, stdout, and one-line errors on stderr. */
public class CliTest {

  @TempDir
  Path dir;

  public record Run(int exit, String out, String err) {}

  public static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int exit = cli.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void renderPrintsTheStackAsMultiDocumentYaml() {
    Run run = run("render", "--values", "config", "--env", "staging", "--revision", "abc123");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).startsWith("---\n").contains("kind: Deployment", "kind: Service", "kind: Secret",
        "langconnect-gitops.io/revision: abc123");
    assertThat(run.out().split("(?m)^---$")).hasSize(6);
    // Secrets' values are hidden unless asked for (staging's password is postgres-staging).
    String password = java.util.Base64.getEncoder().encodeToString("postgres-staging".getBytes());
    assertThat(run.out()).doesNotContain(password).contains("postgres-password: (hidden, sha256 ");
    assertThat(run("render", "--values", "config", "--env", "staging", "--show-secrets").out()).contains(password);
  }

  @Test
  void renderOfAnUnknownEnvironmentIsAUsageErrorNamingTheOnesThatExist() {
    Run run = run("render", "--values", "config", "--env", "qa");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).isEqualTo("error: no environment \"qa\" in config; found: prod, staging\n");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void missingValuesFolderIsOneLineAndExitTwo() {
    Run run = run("validate", "--values", dir.resolve("nope").toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err().lines()).singleElement().asString().startsWith("error: --values ").contains("not a folder");
  }

  @Test
  void renderOfAnInvalidEnvironmentPrintsItsProblemsAndExitsOne() throws IOException {
    Files.writeString(dir.resolve("values-dev.yaml"), "langconnect:\n  replicas: many\n");
    Run run = run("render", "--values", dir.toString(), "--env", "dev");
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("values-dev.yaml:2: langconnect.replicas: the string \"many\" is not a whole number",
        "values-dev.yaml:1: langconnect.image.repository: is required");
  }

  @Test
  void validateExitsZeroForTheExampleConfig() {
    Run run = run("validate", "--values", "config");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("2 environment(s), all valid");
  }

  @Test
  void validatePrintsOneLinePerProblemAndExitsOne() throws IOException {
    Files.writeString(dir.resolve("values.yaml"), "langconnect:\n  image:\n    repository: lc\n");
    Files.writeString(dir.resolve("values-good.yaml"), "{}\n");
    Files.writeString(dir.resolve("values-bad.yaml"), "postgres:\n  persistence:\n    enabled: yes\n    size: big\n");
    Run run = run("validate", "--values", dir.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out().lines()).containsExactly(
        "values-bad.yaml:3: postgres.persistence.enabled: the string \"yes\" is not a boolean; expected true or false",
        "values-bad.yaml:4: postgres.persistence.size: \"big\" is not valid; expected a Kubernetes quantity such as"
            + " 500m, 1, 512Mi or 20Gi");
    assertThat(run.err()).contains("1 invalid: bad");
  }

  @Test
  void unknownOptionIsOneLineAndExitTwoWithoutAStackTrace() {
    Run run = run("render", "--valuez", "config");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err().lines()).singleElement().asString().startsWith("error: ");
    assertThat(run.err()).doesNotContain("Exception", "\tat ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"serve", "sync", "diff", "render", "validate", "get", "suspend", "resume", "prune",
      "confirm-new-database", "backup", "restore", "version"})
  void everyCommandHasHelp(String command) {
    Run run = run(command, "--help");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("Usage: langconnect-gitops " + command);
  }

  @Test
  void getWithoutAControllerToAskIsOneLineAndExitTwo() {
    Run run = run("get", "--server", "http://127.0.0.1:1");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).startsWith("error: cannot reach the controller at http://127.0.0.1:1 (")
        .endsWith("); expected its HTTP address in --server or LANGCONNECT_GITOPS_SERVER\n");
    assertThat(run.err().lines()).hasSize(1);
  }

  @Test
  void suspendWithoutAnEnvironmentIsAUsageError() {
    Run run = run("suspend", "--reason", "incident");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).startsWith("error: Missing required option: '--env=NAME'");
  }

  @Test
  void serveWithAMissingSecretFileIsOneLineAndExitTwo() throws IOException {
    Path config = Files.writeString(dir.resolve("controller.yaml"), """
        git:
          url: file:///nonexistent/values.git
          workDir: %s
        webhooks:
          github:
            secretFile: %s
        """.formatted(dir.resolve("work"), dir.resolve("no-such-secret")));
    Run run = run("serve", "--config", config.toString(), "--port", "0", "--no-leader-election");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err().lines()).singleElement().asString()
        .startsWith("error: webhooks.github.secretFile: cannot read ").endsWith("expected a file holding the secret");
  }

  @Test
  void serveWithAnUnknownConfigKeyNamesIt() throws IOException {
    Path config = Files.writeString(dir.resolve("controller.yaml"), "git:\n  urll: file:///x.git\n");
    Run run = run("serve", "--config", config.toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).startsWith("error: " + config + ": git.urll: unknown key; expected one of ");
  }

  @Test
  void aPointInTimeRestoreOfAnEnvironmentWithoutCloudnativePgOrABadTimeIsOneLineAndExitTwo() {
    Run bundled = run("restore", "--values", "config", "--env", "prod", "--to", "2026-12-06T10:15:00Z");
    assertThat(bundled.exit()).isEqualTo(2);
    assertThat(bundled.err()).isEqualTo("error: --to: prod is not on postgres.engine: cloudnative-pg with"
        + " backup.objectStore; point-in-time recovery replays the WAL that CloudNativePG archives there (use --backup"
        + " or --from-file)\n");
    assertThat(run("restore", "--values", "config", "--env", "prod", "--to", "yesterday", "--backup", "latest").err())
        .as("one source only").contains("mutually exclusive");
  }

  @Test
  void versionPrintsTheProgramName() {
    Run run = run("version");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).startsWith("langconnect-gitops ");
  }

  @Test
  void clusterAddRefusesTheControllersOwnNameAndAMissingKubeconfigInOneLine() {
    Run own = run("cluster", "add", "in-cluster", "--target-kubeconfig", "/nonexistent");
    assertThat(own.exit()).isEqualTo(2);
    assertThat(own.err().lines()).singleElement().asString().startsWith("error: NAME in-cluster: expected lowercase")
        .endsWith("(the controller's own cluster)");
    Run missing = run("cluster", "add", "eu-prod", "--target-kubeconfig", dir.resolve("absent").toString());
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).isEqualTo("error: --target-kubeconfig " + dir.resolve("absent") + ": no such file\n");
  }
}
