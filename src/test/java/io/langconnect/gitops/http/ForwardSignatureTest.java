package io.langconnect.gitops.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ForwardSignatureTest {

  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");
  private static final byte[] BODY = "{\"reason\": \"maintenance\"}".getBytes(StandardCharsets.UTF_8);
  private static final String PATH = "/api/v1/environments/prod/suspend";

  private static String signed() {
    return ForwardSignature.sign("token", "POST", PATH, BODY, NOW, "nonce-1");
  }

  @Test
  void theSignatureOfThatRequestIsAcceptedWithinTheWindowAndNamesItsNonce() {
    assertThat(ForwardSignature.verify("token", signed(), "POST", PATH, BODY, NOW.plusSeconds(59))).contains("nonce-1");
    assertThat(signed()).doesNotContain("token");
  }

  @Test
  void anyOtherRequestTokenOrTimeIsRefused() {
    assertThat(ForwardSignature.verify("other", signed(), "POST", PATH, BODY, NOW)).isEmpty();
    assertThat(ForwardSignature.verify("token", signed(), "POST", "/api/v1/environments/prod/resume", BODY, NOW)).isEmpty();
    assertThat(ForwardSignature.verify("token", signed(), "GET", PATH, BODY, NOW)).isEmpty();
    assertThat(ForwardSignature.verify("token", signed(), "POST", PATH, "{}".getBytes(StandardCharsets.UTF_8), NOW)).isEmpty();
    assertThat(ForwardSignature.verify("token", signed(), "POST", PATH, BODY, NOW.plusSeconds(61))).isEmpty();
    assertThat(ForwardSignature.verify("token", signed().replace("nonce-1", "nonce-2"), "POST", PATH, BODY, NOW)).isEmpty();
    assertThat(ForwardSignature.verify("", signed(), "POST", PATH, BODY, NOW)).isEmpty();
    assertThat(ForwardSignature.verify("token", "1", "POST", PATH, BODY, NOW)).isEmpty();
    assertThat(ForwardSignature.verify("token", "x.y.zz", "POST", PATH, BODY, NOW)).isEmpty();
  }
}
