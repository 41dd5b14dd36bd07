package io.langconnect.gitops.testenv;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The real tools users encrypt values files with: age-keygen (Debian's package) and sops (built from Go modules by
 * scripts/test-env.sh). Never the project's own code.
 */
public final class SopsTool {

  private final LocalControlPlane plane;
  private final Path dir;

  public SopsTool(LocalControlPlane plane, Path dir) {
    this.plane = plane;
    this.dir = dir;
  }

  /** A new age key, as age-keygen writes it (comments, then AGE-SECRET-KEY-1...). */
  public record Key(Path file, String text, String recipient) {}

  public Key newKey() throws IOException, InterruptedException {
    Path file = dir.resolve("age-" + System.nanoTime() + ".txt");
    run(List.of(plane.setting("AGE_KEYGEN"), "-o", file.toString()));
    String text = Files.readString(file);
    String recipient = text.lines().filter(l -> l.startsWith("# public key: "))
        .map(l -> l.substring("# public key: ".length())).findFirst().orElseThrow();
    return new Key(file, text, recipient);
  }

  /** {@code plain} as {@code sops --encrypt --age RECIPIENT [options] --in-place} leaves it. */
  public String encrypt(String plain, String recipient, String... options) throws IOException, InterruptedException {
    Path file = dir.resolve("values-" + System.nanoTime() + ".yaml");
    Files.writeString(file, plain);
    List<String> command = new ArrayList<>(List.of(plane.setting("SOPS"), "--encrypt", "--age", recipient));
    command.addAll(List.of(options));
    command.addAll(List.of("--in-place", file.toString()));
    run(command);
    return Files.readString(file);
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    // sops asks GitHub for its latest version on some commands; tests reach nothing beyond this machine.
    builder.environment().put("SOPS_DISABLE_VERSION_CHECK", "true");
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
  }
}
