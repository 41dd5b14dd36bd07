package io.langconnect.gitops.webhook;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Push payloads in each provider's documented shape, signed in the test from the raw bytes. */
public final class Payloads {

  public static final String SECRET = "It's a Secret to Everybody";

  private Payloads() {}

  /** GitHub's push (Gitea sends the same shape): ref, before, after, commits with added/modified/removed. */
  public static String push(String branch, String before, String after, String... modified) {
    StringBuilder files = new StringBuilder();
    for (String f : modified) files.append(files.length() == 0 ? "" : ",").append('"').append(f).append('"');
    return """
        {"ref":"refs/heads/%s","before":"%s","after":"%s",
         "repository":{"full_name":"org/values"},
         "commits":[{"id":"%s","message":"change","added":[],"modified":[%s],"removed":[]}],
         "head_commit":{"id":"%s"}}""".formatted(branch, before, after, after, files, after);
  }

  /** GitLab Push Hook: as GitHub's, with checkout_sha and total_commits_count. */
  public static String gitlabPush(String branch, String before, String after, String... modified) {
    return push(branch, before, after, modified).replace("\"repository\"",
        "\"object_kind\":\"push\",\"checkout_sha\":\"" + after + "\",\"total_commits_count\":1,\"project\"");
  }

  public static Map<String, String> github(String event, byte[] body) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    headers.put("X-GitHub-Event", event);
    headers.put("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    headers.put("X-Hub-Signature-256", "sha256=" + Signatures.hmacSha256Hex(SECRET.getBytes(StandardCharsets.UTF_8), body));
    return headers;
  }

  public static Map<String, String> gitlab(String token) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    headers.put("X-Gitlab-Event", "Push Hook");
    headers.put("X-Gitlab-Event-UUID", "13792a34-cac6-4fda-95a8-c58e00a3954e");
    headers.put("X-Gitlab-Token", token);
    return headers;
  }

  public static Map<String, String> generic(byte[] body) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    headers.put("X-Signature", "sha256=" + Signatures.hmacSha256Hex(SECRET.getBytes(StandardCharsets.UTF_8), body));
    return headers;
  }
}
