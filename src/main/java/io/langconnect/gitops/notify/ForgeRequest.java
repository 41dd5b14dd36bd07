package io.langconnect.gitops.notify;

import io.langconnect.gitops.config.ConfigLoader;
import io.langconnect.gitops.config.ControllerConfig;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One commit-status request to a forge, built from the forge's documented API (GitHub {@code POST
 * /repos/{owner}/{repo}/statuses/{sha}}, Gitea the same under {@code /api/v1}, GitLab {@code POST
 * /api/v4/projects/{path}/statuses/{sha}}). Pure: the sender adds nothing but the token's header.
 */
public record ForgeRequest(String url, Map<String, String> headers, JsonObject body) {

  /** Statuses are named per environment, as Flux names them per Kustomization. */
  public static String context(String environment) {
    return "langconnect-gitops/" + environment;
  }

  public static ForgeRequest status(ControllerConfig.CommitStatus forge, String repository, String token,
                                    String revision, String environment, CommitState state) {
    return switch (forge.provider()) {
      case "github" -> new ForgeRequest(forge.url() + "/repos/" + repository + "/statuses/" + revision,
          Map.of("Authorization", "Bearer " + token, "Accept", "application/vnd.github+json"),
          new JsonObject().put("state", state.state().name().toLowerCase()).put("context", context(environment))
              .put("description", state.description()));
      case "gitea" -> new ForgeRequest(forge.url() + "/api/v1/repos/" + repository + "/statuses/" + revision,
          Map.of("Authorization", "token " + token),
          new JsonObject().put("state", state.state().name().toLowerCase()).put("context", context(environment))
              .put("description", state.description()));
      case "gitlab" -> new ForgeRequest(forge.url() + "/api/v4/projects/"
          + URLEncoder.encode(repository, StandardCharsets.UTF_8) + "/statuses/" + revision,
          Map.of("PRIVATE-TOKEN", token),
          new JsonObject().put("state", gitlabState(state.state())).put("name", context(environment))
              .put("description", state.description()));
      default -> throw new IllegalArgumentException("not a forge: " + forge.provider());
    };
  }

  private static String gitlabState(CommitState.State state) {
    return switch (state) {
      case PENDING -> "pending";
      case SUCCESS -> "success";
      case FAILURE -> "failed";
    };
  }

  private static final Pattern SCP_LIKE = Pattern.compile("^[^/@:]+@[^:/]+:(.+)$");

  /**
   * The repository's path on its forge (owner/name, GitLab's group/subgroup/name), from the values' git URL:
   * https://host/owner/name.git, ssh://git@host/owner/name, git@host:owner/name.git.
   */
  public static String repositoryOf(String gitUrl) {
    if (gitUrl == null || gitUrl.isBlank()) {
      throw new ConfigLoader.ConfigException("notifications.commitStatus.repository: missing and git.url is not set;"
          + " expected owner/name");
    }
    Matcher scp = SCP_LIKE.matcher(gitUrl);
    String path = scp.matches() ? scp.group(1) : URI.create(gitUrl).getPath();
    path = path.replaceAll("^/+", "").replaceAll("/+$", "").replaceAll("\\.git$", "");
    if (!path.contains("/")) {
      throw new ConfigLoader.ConfigException("notifications.commitStatus.repository: git.url names no owner/name"
          + " (" + path + "); expected repository: owner/name");
    }
    return path;
  }
}
