package io.langconnect.gitops.git;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GitUrlsTest {

  @Test
  void credentialsInHttpsUrlsAreMasked() {
    assertThat(GitUrls.redact("https://user:s3cret@git.example.com/org/values.git"))
        .isEqualTo("https://***@git.example.com/org/values.git");
    assertThat(GitUrls.redact("https://ghp_token123@github.com/org/values.git"))
        .isEqualTo("https://***@github.com/org/values.git");
  }

  @Test
  void anSshUserAloneIsNoSecretButItsPasswordIs() {
    assertThat(GitUrls.redact("ssh://git@git.example.com/org/values.git")).isEqualTo("ssh://git@git.example.com/org/values.git");
    assertThat(GitUrls.redact("ssh://deploy:hunter2@git.example.com/values.git")).isEqualTo("ssh://deploy:***@git.example.com/values.git");
  }

  @Test
  void everyUrlInAMessageIsMaskedAndTheRestIsKept() {
    assertThat(GitUrls.redact("git fetch https://u:p@a.example/x.git failed: https://u:p@a.example/x.git: not authorized"))
        .isEqualTo("git fetch https://***@a.example/x.git failed: https://***@a.example/x.git: not authorized");
    assertThat(GitUrls.redact("git://127.0.0.1:9418/values.git: connection refused"))
        .isEqualTo("git://127.0.0.1:9418/values.git: connection refused");
    assertThat(GitUrls.redact(null)).isNull();
  }
}
