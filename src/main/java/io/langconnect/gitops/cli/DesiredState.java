package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.cluster.AgeKeys;
import io.langconnect.gitops.cluster.KubernetesClients;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.git.ValuesRepository;
import io.langconnect.gitops.values.Sops;
import io.langconnect.gitops.values.ValuesFolder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.eclipse.jgit.lib.ObjectId;

/** What the cluster should hold: the environments of a local values folder, or of the repository's branch head. */
record DesiredState(String revision, List<ValuesFolder.Environment> environments) {

  static DesiredState from(Path valuesDir, ControllerConfig config) {
    if (valuesDir != null) {
      if (!Files.isDirectory(valuesDir)) throw new Main.UserError("--values " + valuesDir + ": not a folder");
      try {
        return new DesiredState("local", ValuesFolder.load(valuesDir, config.namespacePolicy(), keys(config)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    if (config.git().optionalUrl().isEmpty()) {
      throw new Main.UserError("no values source; expected --values DIR, or --repo URL (or git.url in --config)");
    }
    try (ValuesRepository repository = new ValuesRepository(config.git())) {
      ObjectId head = repository.fetch();
      Map<String, String> files = repository.valuesFiles(head).orElseThrow(() -> new Main.UserError(
          "path " + config.git().path() + " does not exist in " + repository.url() + " at " + head.name()));
      String prefix = repository.displayPrefix();
      return new DesiredState(head.name(), ValuesFolder.load(files, prefix, config.namespacePolicy(),
          keys(config)));
    } catch (ValuesRepository.GitException e) {
      throw new Main.UserError(e.getMessage());
    }
  }

  /**
   * The controller's keys (its key file and Secret, read with the user's kubeconfig), asked for only when a values
   * file is encrypted: a command then decrypts exactly as the controller would.
   */
  private static Supplier<Sops.Keys> keys(ControllerConfig config) {
    return () -> {
      try (KubernetesClient client = KubernetesClients.create(Optional.ofNullable(config.kubernetes().kubeconfig()),
          config.kubernetes().requestTimeout())) {
        return new AgeKeys(ValuesOption.withSopsKeyFile(config.decryption()), Optional.of(client),
            config.kubernetes().stateNamespace()).get();
      }
    };
  }

  List<ValuesFolder.Environment> select(String env) {
    if (env == null) return environments;
    List<ValuesFolder.Environment> one = environments.stream().filter(e -> e.name().equals(env)).toList();
    if (one.isEmpty()) {
      throw new Main.UserError("no environment \"" + env + "\"; found: "
          + String.join(", ", environments.stream().map(ValuesFolder.Environment::name).toList()));
    }
    return one;
  }
}
