package io.langconnect.gitops.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WebhookParserTest {

  private static final byte[] SECRET = Payloads.SECRET.getBytes(StandardCharsets.UTF_8);
  private static final String BEFORE = "a".repeat(40);
  private static final String AFTER = "b".repeat(40);

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static WebhookParser.Outcome parse(Provider provider, Map<String, String> headers, byte[] body) {
    return WebhookParser.parse(provider, SECRET, new WebhookRequest(headers, body));
  }

  @Test
  void signedGithubPushIsReadWithItsChangedFiles() {
    byte[] body = bytes(Payloads.push("main", BEFORE, AFTER, "envs/values-staging.yaml"));
    WebhookParser.Outcome outcome = parse(Provider.GITHUB, Payloads.github("push", body), body);
    assertThat(outcome).isEqualTo(new WebhookParser.Push(new PushEvent("refs/heads/main", Optional.of(BEFORE), AFTER,
        Optional.of(Set.of("envs/values-staging.yaml")))));
  }

  @Test
  void githubSignatureMatchesTheDocumentedExample() {
    // GitHub's documentation: secret "It's a Secret to Everybody", payload "Hello, World!".
    assertThat(Signatures.hmacSha256Hex(SECRET, bytes("Hello, World!")))
        .isEqualTo("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  }

  @Test
  void formEncodedGithubPayloadWorks() {
    String json = Payloads.push("main", BEFORE, AFTER, "values.yaml");
    byte[] body = bytes("payload=" + URLEncoder.encode(json, StandardCharsets.UTF_8));
    Map<String, String> headers = new java.util.HashMap<>(Payloads.github("push", body));
    headers.put("Content-Type", "application/x-www-form-urlencoded");
    assertThat(parse(Provider.GITHUB, headers, body)).isInstanceOf(WebhookParser.Push.class);
  }

  @Test
  void pingIsAcknowledged() {
    byte[] body = bytes("{\"zen\":\"Keep it logically awesome.\",\"hook_id\":1}");
    assertThat(parse(Provider.GITHUB, Payloads.github("ping", body), body))
        .isEqualTo(new WebhookParser.Acknowledged("ping"));
  }

  @Test
  void tamperedBodyWrongAndMissingSignaturesAreUnauthorized() {
    byte[] body = bytes(Payloads.push("main", BEFORE, AFTER, "values-prod.yaml"));
    Map<String, String> headers = Payloads.github("push", body);
    byte[] tampered = bytes(Payloads.push("main", BEFORE, AFTER, "values-staging.yaml"));
    assertThat(parse(Provider.GITHUB, headers, tampered)).isEqualTo(new WebhookParser.Rejected(401, "missing or wrong signature"));

    Map<String, String> wrong = new java.util.HashMap<>(headers);
    wrong.put("X-Hub-Signature-256", "sha256=" + "0".repeat(64));
    assertThat(parse(Provider.GITHUB, wrong, body)).isInstanceOf(WebhookParser.Rejected.class);

    Map<String, String> missing = new java.util.HashMap<>(headers);
    missing.remove("X-Hub-Signature-256");
    assertThat(parse(Provider.GITHUB, missing, body)).isEqualTo(new WebhookParser.Rejected(401, "missing or wrong signature"));
  }

  @Test
  void gitlabTokenIsComparedAndItsPushRead() {
    byte[] body = bytes(Payloads.gitlabPush("main", BEFORE, AFTER, "values-prod.yaml"));
    assertThat(parse(Provider.GITLAB, Payloads.gitlab(Payloads.SECRET), body)).isInstanceOf(WebhookParser.Push.class);
    assertThat(parse(Provider.GITLAB, Payloads.gitlab("guess"), body)).isInstanceOf(WebhookParser.Rejected.class);
  }

  /** Gitea's deliveries come from the real forge, signed well and badly: ForgeIT. */
  @Test
  void genericSignaturesAreChecked() {
    byte[] body = bytes(Payloads.push("main", BEFORE, AFTER));
    byte[] generic = bytes("{\"ref\":\"refs/heads/main\",\"after\":\"" + AFTER + "\"}");
    WebhookParser.Outcome outcome = parse(Provider.GENERIC, Payloads.generic(generic), generic);
    assertThat(outcome).isEqualTo(new WebhookParser.Push(new PushEvent("refs/heads/main", Optional.empty(), AFTER,
        Optional.empty())));
    assertThat(parse(Provider.GENERIC, Payloads.generic(body), generic)).isInstanceOf(WebhookParser.Rejected.class);
  }

  @Test
  void otherContentTypesAndMalformedBodiesAreNamed() {
    byte[] body = bytes("<xml/>");
    Map<String, String> headers = new java.util.HashMap<>(Payloads.github("push", body));
    headers.put("Content-Type", "text/xml");
    assertThat(parse(Provider.GITHUB, headers, body)).extracting(o -> ((WebhookParser.Rejected) o).status()).isEqualTo(415);

    byte[] broken = bytes("{\"ref\":");
    assertThat(parse(Provider.GITHUB, Payloads.github("push", broken), broken))
        .extracting(o -> ((WebhookParser.Rejected) o).status()).isEqualTo(400);
  }

  @Test
  void longPushesDoNotClaimToListEveryPath() {
    StringBuilder commits = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      commits.append(i == 0 ? "" : ",").append("{\"id\":\"").append(i).append("\",\"added\":[],\"modified\":[\"values-a.yaml\"],\"removed\":[]}");
    }
    byte[] body = bytes("{\"ref\":\"refs/heads/main\",\"after\":\"" + AFTER + "\",\"commits\":[" + commits + "]}");
    WebhookParser.Push push = (WebhookParser.Push) parse(Provider.GITHUB, Payloads.github("push", body), body);
    assertThat(push.event().changedPaths()).isEmpty();
  }

  @Test
  void affectedEnvironmentsFollowTheChangedValuesFiles() {
    assertThat(AffectedEnvironments.of(Optional.of(Set.of("envs/values-staging.yaml", "README.md", "envs/sub/values-x.yaml")), "envs/"))
        .contains(Set.of("staging"));
    assertThat(AffectedEnvironments.of(Optional.of(Set.of("envs/values.yaml", "envs/values-prod.yaml")), "envs/")).isEmpty();
    assertThat(AffectedEnvironments.of(Optional.empty(), "")).isEmpty();
    assertThat(AffectedEnvironments.of(Optional.of(Set.of("docs/guide.md")), "")).contains(Set.of());
  }
}
