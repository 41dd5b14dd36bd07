package io.langconnect.gitops.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.SshGitServer;
import io.langconnect.gitops.testenv.ValuesRepo;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The ssh:// transport with a private key and known_hosts, against a real SSH git server on loopback. */
@ExtendWith(LocalControlPlane.class)
class ValuesRepositorySshIT {

  @TempDir
  Path tmp;

  private static Path writePrivateKey(Path file, KeyPair key) throws Exception {
    String pem = "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
    return Files.writeString(file, pem);
  }

  private ControllerConfig.Git git(int port, String name, Path key, Path knownHosts) {
    return new ControllerConfig.Git("ssh://git@127.0.0.1:" + port + "/" + name, "main", ".", Duration.ofSeconds(60),
        Duration.ofSeconds(10), tmp.resolve("clone-" + System.nanoTime()).toString(),
        new ControllerConfig.GitAuth(null, null, null, key.toString(), knownHosts.toString()));
  }

  @Test
  void fetchesOverSshWithAKeyAndRefusesAnUnknownHostKey(LocalControlPlane plane) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair clientKey = generator.generateKeyPair();
    Path key = writePrivateKey(Files.createDirectories(tmp.resolve("ssh")).resolve("id_rsa"), clientKey);

    try (ValuesRepo repo = ValuesRepo.create(plane, tmp.resolve("work"))) {
      String commit = repo.write("values-dev.yaml", "langconnect:\n  image:\n    repository: lc\n").commitAndPush("dev");
      Path bare = Path.of(URI.create(repo.fileUrl()));
      try (SshGitServer server = SshGitServer.start(bare.getParent(), tmp.resolve("host-key"), clientKey.getPublic())) {
        String name = bare.getFileName().toString();
        Path knownHosts = Files.writeString(tmp.resolve("ssh/known_hosts"), server.knownHostsLine() + "\n");
        try (ValuesRepository values = new ValuesRepository(git(server.port(), name, key, knownHosts))) {
          assertThat(values.remoteHead().name()).isEqualTo(commit);
          assertThat(values.fetch().name()).isEqualTo(commit);
          assertThat(values.valuesFiles(values.fetch()).orElseThrow()).containsKey("values-dev.yaml");
        }

        // A known_hosts that names another key for this host: the connection is refused, not trusted.
        KeyPair other = generator.generateKeyPair();
        Path wrongHosts = Files.writeString(tmp.resolve("ssh/wrong_known_hosts"),
            "[127.0.0.1]:" + server.port() + " " + PublicKeyEntry.toString(other.getPublic()) + "\n");
        try (ValuesRepository values = new ValuesRepository(git(server.port(), name, key, wrongHosts))) {
          assertThatThrownBy(values::remoteHead).isInstanceOf(ValuesRepository.GitException.class)
              .hasMessageContaining("git ls-remote ssh://git@127.0.0.1:" + server.port());
        }
      }
    }
  }
}
