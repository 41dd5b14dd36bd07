package io.langconnect.gitops.testenv;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one user did, read from an API server's audit log, as grants ({@code group/resource:verb}): the RBAC tests
 * compare them with what a Role or ClusterRole grants.
 */
public record AuditLog(Set<String> used, List<String> forbidden) {

  /** The requests {@code user} made since {@code since}: the grants they used, and those refused (with their URI). */
  public static AuditLog of(String file, String user, Instant since) throws IOException {
    Set<String> used = new TreeSet<>();
    List<String> forbidden = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(file), StandardCharsets.UTF_8)) {
      JsonObject event = new JsonObject(line);
      if (!user.equals(event.getJsonObject("user", new JsonObject()).getString("username"))) continue;
      if (Instant.parse(event.getString("requestReceivedTimestamp")).isBefore(since)) continue;
      JsonObject ref = event.getJsonObject("objectRef");
      if (ref == null) continue;
      String grant = ref.getString("apiGroup", "") + "/" + ref.getString("resource") + ":" + event.getString("verb");
      int code = event.getJsonObject("responseStatus", new JsonObject()).getInteger("code", 0);
      if (code == 403) forbidden.add(grant + " " + event.getString("requestURI"));
      else used.add(grant);
      // Server-side apply of an object that did not exist is audited as a patch, and authorized as a create too.
      if (event.getString("verb").equals("patch") && code == 201) used.add(grant.replace(":patch", ":create"));
    }
    return new AuditLog(used, forbidden);
  }

  /** Every grant the Roles and ClusterRoles among {@code objects} give, as {@code group/resource:verb}. */
  public static Set<String> granted(List<HasMetadata> objects) {
    Set<String> granted = new TreeSet<>();
    for (HasMetadata object : objects) {
      List<PolicyRule> rules = object instanceof ClusterRole c ? c.getRules()
          : object instanceof Role r ? r.getRules() : List.of();
      for (PolicyRule rule : rules) {
        for (String group : rule.getApiGroups()) {
          for (String resource : rule.getResources()) {
            // bind is checked inside another request (a RoleBinding's create), never a request of its own.
            for (String verb : rule.getVerbs()) if (!verb.equals("bind")) granted.add(group + "/" + resource + ":" + verb);
          }
        }
      }
    }
    return granted;
  }
}
