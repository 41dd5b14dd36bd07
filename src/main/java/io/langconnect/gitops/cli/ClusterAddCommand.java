package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.langconnect.gitops.apply.Namespaces;
import io.langconnect.gitops.cluster.KubernetesClients;
import io.langconnect.gitops.config.ControllerConfig.ClusterEndpoint;
import io.langconnect.gitops.config.ControllerConfig;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * Prepares a cluster for environments, as {@code argocd cluster add} does: on the target, a ServiceAccount bound to
 * exactly the ClusterRole of {@code manifests/rbac.yaml} (the objects an environment needs; the controller's own state
 * stays in its own cluster); a token bound to that ServiceAccount; and, in the controller's cluster, a Secret holding
 * the kubeconfig the controller reaches the target with.
 */
@Command(name = "add", mixinStandardHelpOptions = true,
    description = "Give the controller a least-privilege ServiceAccount on a target cluster and store its kubeconfig"
        + " as a Secret in the state namespace.")
final class ClusterAddCommand implements Callable<Integer> {

  static final String ACCOUNT = "langconnect-gitops";
  private static final String FIELD_MANAGER = "langconnect-gitops-cli";

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  ControllerOptions options;

  @Parameters(index = "0", paramLabel = "NAME", description = "The cluster's name, as values files' cluster: key names it.")
  String name;

  @Option(names = "--target-kubeconfig", required = true, paramLabel = "FILE",
      description = "A kubeconfig with the right to create the ServiceAccount and its grants on the target.")
  Path targetKubeconfig;

  @Option(names = "--target-context", paramLabel = "NAME", description = "Its context (default: its current one).")
  String targetContext;

  @Option(names = "--server", paramLabel = "URL",
      description = "The target's API URL as the controller reaches it (default: the target kubeconfig's).")
  String server;

  @Option(names = "--token-duration", paramLabel = "DURATION", defaultValue = "8760h",
      description = "How long the bound token is valid (default: ${DEFAULT-VALUE}); run again to rotate it.")
  String tokenDuration;

  @Option(names = "--dry-run", description = "Print what would be applied and written; change nothing.")
  boolean dryRun;

  @Override
  public Integer call() {
    ControllerConfig config = options.load();
    Duration validity = ControllerOptions.duration("--token-duration", tokenDuration);
    if (!ClusterEndpoint.isValidName(name)) {
      throw new Main.UserError("NAME " + name + ": expected lowercase letters, digits and '-', and not "
          + ClusterEndpoint.IN_CLUSTER + " (the controller's own cluster)");
    }
    if (!Files.isRegularFile(targetKubeconfig)) throw new Main.UserError("--target-kubeconfig " + targetKubeconfig + ": no such file");
    Config target = Config.fromKubeconfig(targetContext, targetKubeconfig.toFile());
    String url = server != null ? server : target.getMasterUrl();
    String secretName = "cluster-" + name;
    String stateNamespace = config.kubernetes().stateNamespace();
    List<HasMetadata> grants = grants();
    PrintWriter out = spec.commandLine().getOut();
    if (dryRun) {
      out.println("# would apply to " + url + ":");
      grants.forEach(object -> out.print(Serialization.asYaml(object)));
      out.println("# would mint a token for ServiceAccount " + ACCOUNT + "/" + ACCOUNT + " valid for " + tokenDuration
          + " and write Secret " + stateNamespace + "/" + secretName + " (key " + ClusterEndpoint.SECRET_KEY
          + ") in the controller's cluster; nothing was changed");
      out.flush();
      return 0;
    }
    try (KubernetesClient targetClient = KubernetesClients.create(target, config.kubernetes().requestTimeout());
         KubernetesClient home = KubernetesClients.create(Optional.ofNullable(config.kubernetes().kubeconfig()),
             config.kubernetes().requestTimeout())) {
      for (HasMetadata object : grants) {
        targetClient.resource(object).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
      }
      String token = targetClient.serviceAccounts().inNamespace(ACCOUNT).withName(ACCOUNT)
          .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(validity.toSeconds()).endSpec().build())
          .getStatus().getToken();
      Namespaces.ensure(home, stateNamespace, Map.of());
      home.resource(kubeconfigSecret(stateNamespace, secretName, url, caData(target), token))
          .fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
      out.println("cluster " + name + " (" + url + "): ServiceAccount " + ACCOUNT + "/" + ACCOUNT + " bound to ClusterRole "
          + ACCOUNT + "; token valid until " + Instant.now().plus(validity).toString().replaceAll("\\.\\d+Z$", "Z")
          + "; kubeconfig in Secret " + stateNamespace + "/" + secretName + ". Add to the controller config:");
      out.println("clusters:\n  " + name + ":\n    kubeconfigSecret: " + secretName);
      out.flush();
      return 0;
    } catch (KubernetesClientException e) {
      throw new Main.UserError("cluster " + name + ": " + e.getMessage());
    }
  }

  /**
   * The target's objects: the account's namespace and ServiceAccount, manifests/rbac.yaml's cluster-wide grant and
   * the role it binds in each namespace it manages, and manifests/admission.yaml's policy, which the target's API
   * server then enforces on the account as the home cluster's does on the controller.
   */
  static List<HasMetadata> grants() {
    Map<String, String> labels = Map.of("app.kubernetes.io/name", ACCOUNT);
    List<HasMetadata> rbac = manifest("rbac.yaml");
    List<HasMetadata> objects = new java.util.ArrayList<>(List.of(
        new NamespaceBuilder().withNewMetadata().withName(ACCOUNT).withLabels(labels).endMetadata().build(),
        new ServiceAccountBuilder().withNewMetadata().withName(ACCOUNT).withNamespace(ACCOUNT).withLabels(labels)
            .endMetadata().build()));
    rbac.stream().filter(o -> o instanceof ClusterRole || o instanceof ClusterRoleBinding).forEach(objects::add);
    objects.addAll(manifest("admission.yaml"));
    return objects;
  }

  private static List<HasMetadata> manifest(String file) {
    try (InputStream in = ClusterAddCommand.class.getResourceAsStream("/manifests/" + file)) {
      return Serialization.unmarshal(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String caData(Config target) {
    if (target.getCaCertData() != null) return target.getCaCertData();
    if (target.getCaCertFile() == null) return null;
    try {
      return Base64.getEncoder().encodeToString(Files.readAllBytes(new File(target.getCaCertFile()).toPath()));
    } catch (IOException e) {
      throw new Main.UserError("--target-kubeconfig: its certificate-authority " + target.getCaCertFile()
          + " cannot be read (" + e.getClass().getSimpleName() + ")");
    }
  }

  private Secret kubeconfigSecret(String namespace, String secretName, String url, String ca, String token) {
    String cluster = "    server: " + url + "\n" + (ca == null ? "" : "    certificate-authority-data: " + ca + "\n");
    String kubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n- name: " + name + "\n  cluster:\n" + cluster
        + "users:\n- name: " + ACCOUNT + "\n  user:\n    token: " + token + "\ncontexts:\n- name: " + name
        + "\n  context: {cluster: " + name + ", user: " + ACCOUNT + "}\ncurrent-context: " + name + "\n";
    return new SecretBuilder().withNewMetadata().withName(secretName).withNamespace(namespace)
        .addToLabels("app.kubernetes.io/name", ACCOUNT).addToLabels("langconnect-gitops.io/cluster", name).endMetadata()
        .withType("Opaque")
        .addToData(ClusterEndpoint.SECRET_KEY, Base64.getEncoder().encodeToString(kubeconfig.getBytes(StandardCharsets.UTF_8)))
        .build();
  }
}
