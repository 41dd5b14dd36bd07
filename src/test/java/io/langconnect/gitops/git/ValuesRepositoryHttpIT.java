package io.langconnect.gitops.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.testenv.HttpGitServer;
import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.testenv.ValuesRepo;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Smart HTTP with a token read from a file (git's own http-backend behind basic auth, on loopback). */
@ExtendWith(LocalControlPlane.class)
class ValuesRepositoryHttpIT {

  @TempDir
  Path tmp;

  private ControllerConfig.Git git(String url, Path tokenFile) {
    return new ControllerConfig.Git(url, "main", ".", Duration.ofSeconds(60), Duration.ofSeconds(10),
        tmp.resolve("clone-" + System.nanoTime()).toString(),
        new ControllerConfig.GitAuth(tokenFile.toString(), null, null, null, null));
  }

  @Test
  void fetchesWithATokenFromAFileAndNamesARefusedOne(LocalControlPlane plane) throws Exception {
    try (ValuesRepo repo = ValuesRepo.create(plane, tmp.resolve("work"));
         HttpGitServer server = HttpGitServer.start(LocalControlPlane.vertx(),
             plane.gitDaemonRoot(), "s3cret-token")) {
      String commit = repo.write("values-dev.yaml", "langconnect:\n  image:\n    repository: lc\n").commitAndPush("dev");
      String name = Path.of(URI.create(repo.fileUrl())).getFileName().toString();
      Path token = Files.writeString(tmp.resolve("token"), "s3cret-token\n");

      try (ValuesRepository values = new ValuesRepository(git(server.url(name), token))) {
        assertThat(values.remoteHead().name()).isEqualTo(commit);
        assertThat(values.valuesFiles(values.fetch()).orElseThrow()).containsKey("values-dev.yaml");
      }

      Path wrong = Files.writeString(tmp.resolve("wrong"), "guess\n");
      try (ValuesRepository values = new ValuesRepository(git(server.url(name), wrong))) {
        assertThatThrownBy(values::remoteHead).isInstanceOf(ValuesRepository.GitException.class)
            .hasMessageStartingWith("git ls-remote " + server.url(name) + " failed")
            .hasMessageNotContaining("guess");
      }
    }
  }
}
