package io.langconnect.gitops.webhook;

import java.util.Arrays;
import java.util.Optional;

/** The git hosts whose push webhooks the controller accepts, by the path segment of their endpoint. */
public enum Provider {
  GITHUB("github", "X-GitHub-Delivery"),
  GITLAB("gitlab", "X-Gitlab-Event-UUID"),
  GITEA("gitea", "X-Gitea-Delivery"),
  GENERIC("generic", "X-Delivery");

  private final String path;
  private final String deliveryHeader;

  Provider(String path, String deliveryHeader) {
    this.path = path;
    this.deliveryHeader = deliveryHeader;
  }

  public String path() {
    return path;
  }

  public String deliveryHeader() {
    return deliveryHeader;
  }

  public static Optional<Provider> byPath(String path) {
    return Arrays.stream(values()).filter(p -> p.path.equals(path)).findFirst();
  }
}
