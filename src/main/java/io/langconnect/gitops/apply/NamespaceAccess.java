package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.render.Labels;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The controller's right to Secrets, granted namespace by namespace. Running as a ServiceAccount (manifests/), it has
 * no cluster-wide Secret grant: in each namespace it manages (one carrying its managed-by label) it binds itself the
 * ClusterRole {@value #ROLE} with a RoleBinding, and the API server's admission policy refuses that binding anywhere
 * else, so kube-system's Secrets stay out of its reach. Run as anyone else (a user's kubeconfig), it binds nothing.
 */
public final class NamespaceAccess {

  public static final String ROLE = "langconnect-gitops-environment";
  static final String BINDING = "langconnect-gitops";
  private static final String SERVICE_ACCOUNT = "system:serviceaccount:";

  private final KubernetesClient client;
  private final Set<String> granted = ConcurrentHashMap.newKeySet();
  private volatile Optional<String[]> account;

  public NamespaceAccess(KubernetesClient client) {
    this.client = client;
  }

  /** Thrown for a namespace that exists but is not the controller's: nothing of it is read or written. */
  public static final class NotManagedException extends RuntimeException {
    NotManagedException(String namespace) {
      super("namespace " + namespace + " exists but is not managed by langconnect-gitops: label it "
          + Labels.MANAGED_BY + "=" + Labels.MANAGER + " to let the controller in, or choose another namespace");
    }
  }

  /**
   * Makes sure the controller may read and write Secrets in {@code namespace}, which exists; once per namespace and
   * process. Returns false when the namespace does not exist (nothing can be granted, and no Secret is there).
   */
  public boolean grant(String namespace) {
    if (granted.contains(namespace)) return true;
    Optional<String[]> self = serviceAccount();
    if (self.isEmpty()) {
      granted.add(namespace);
      return true;
    }
    Namespace live = client.namespaces().withName(namespace).get();
    if (live == null) return false;
    if (live.getMetadata().getDeletionTimestamp() != null) throw terminating(namespace);
    Map<String, String> labels = live.getMetadata().getLabels() == null ? Map.of() : live.getMetadata().getLabels();
    if (!Labels.MANAGER.equals(labels.get(Labels.MANAGED_BY))) throw new NotManagedException(namespace);
    try {
      client.resource(new RoleBindingBuilder().withNewMetadata().withName(BINDING).withNamespace(namespace)
          .addToLabels(Labels.MANAGED_BY, Labels.MANAGER).endMetadata()
          .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", ROLE)
          .addNewSubject().withKind("ServiceAccount").withNamespace(self.get()[0]).withName(self.get()[1]).endSubject()
          .build()).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) throw e;
    }
    awaitEffective(namespace);
    granted.add(namespace);
    return true;
  }

  /**
   * The grant in {@code namespace} is to be made again: the namespace was made anew (its RoleBinding went with the
   * old one), or a request there was refused.
   */
  public void forget(String namespace) {
    granted.remove(namespace);
  }

  /** Refused as the API server refuses a write there (403, "being terminated"): nothing is granted in it now. */
  private static KubernetesClientException terminating(String namespace) {
    return new KubernetesClientException("namespace " + namespace + " is being terminated: no Secret grant is made in it",
        403, null);
  }

  /**
   * The authorizer learns of a new binding a moment after it is stored: asked, not probed with refused reads. A
   * binding that does not take effect (its namespace deleted meanwhile) is a refusal, not a transient failure.
   */
  private void awaitEffective(String namespace) {
    for (int attempt = 0; attempt < 50; attempt++) {
      var review = client.authorization().v1().selfSubjectAccessReview().create(new SelfSubjectAccessReviewBuilder()
          .withNewSpec().withNewResourceAttributes().withNamespace(namespace).withVerb("get").withResource("secrets")
          .endResourceAttributes().endSpec().build());
      if (review.getStatus() != null && Boolean.TRUE.equals(review.getStatus().getAllowed())) return;
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KubernetesClientException("interrupted while the Secret grant in " + namespace + " took effect", e);
      }
    }
    Namespace live = client.namespaces().withName(namespace).get();
    if (live == null || live.getMetadata().getDeletionTimestamp() != null) throw terminating(namespace);
    throw new KubernetesClientException("the Secret grant in namespace " + namespace + " (RoleBinding " + BINDING
        + " to ClusterRole " + ROLE + ") did not take effect within 5 s", 403, null);
  }

  /**
   * The ServiceAccount the client authenticates as ({namespace, name}), or empty for any other identity: read from
   * its own bearer token (a ServiceAccount token is a JWT whose subject names the account), without a request.
   */
  private Optional<String[]> serviceAccount() {
    Optional<String[]> known = account;
    if (known != null) return known;
    var config = client.getConfiguration();
    String token = config.getOauthToken() != null ? config.getOauthToken() : config.getAutoOAuthToken();
    known = Optional.ofNullable(token).flatMap(NamespaceAccess::subject).filter(s -> s.startsWith(SERVICE_ACCOUNT))
        .map(s -> s.substring(SERVICE_ACCOUNT.length()).split(":", 2)).filter(parts -> parts.length == 2);
    account = known;
    return known;
  }

  private static Optional<String> subject(String jwt) {
    String[] parts = jwt.split("\\.");
    if (parts.length != 3) return Optional.empty();
    try {
      byte[] payload = java.util.Base64.getUrlDecoder().decode(parts[1]);
      return Optional.ofNullable(new io.vertx.core.json.JsonObject(new String(payload,
          java.nio.charset.StandardCharsets.UTF_8)).getString("sub"));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }
}
