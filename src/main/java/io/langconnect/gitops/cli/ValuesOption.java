package io.langconnect.gitops.cli;

import io.langconnect.gitops.cluster.AgeKeys;
import io.langconnect.gitops.config.ConfigLoader;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.values.ValuesFolder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/** The {@code --values DIR} option shared by commands that read a values folder. */
final class ValuesOption {

  @Option(names = "--values", required = true, paramLabel = "DIR",
      description = "Folder with values.yaml (optional) and values-<env>.yaml files.")
  Path dir;

  @Option(names = "--config", paramLabel = "FILE", description = "Controller config, for kubernetes.allowedNamespaces"
      + " (default: every namespace but kube-*, default and the controller's own).")
  Path config;

  List<ValuesFolder.Environment> load() {
    if (!Files.isDirectory(dir)) {
      throw new Main.UserError("--values " + dir + ": not a folder; expected the folder holding values-<env>.yaml files");
    }
    if (config != null && !Files.isRegularFile(config)) throw new Main.UserError("--config " + config + ": no such file");
    ControllerConfig loaded;
    try {
      loaded = ConfigLoader.load(Optional.ofNullable(config), System.getenv());
    } catch (ConfigLoader.ConfigException e) {
      throw new Main.UserError(e.getMessage());
    }
    // A local folder is read without the cluster: encrypted files open with the key file only.
    AgeKeys keys = new AgeKeys(withSopsKeyFile(loaded.decryption()), Optional.empty(), loaded.kubernetes().stateNamespace());
    try {
      return ValuesFolder.load(dir, loaded.namespacePolicy(), keys);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
    }
  }

  /** sops' own variable names the key file when the config does not, as it does for {@code sops --decrypt}. */
  static ControllerConfig.Decryption withSopsKeyFile(ControllerConfig.Decryption decryption) {
    String sopsKeyFile = System.getenv("SOPS_AGE_KEY_FILE");
    if (decryption.ageKeyFile() != null || sopsKeyFile == null || sopsKeyFile.isBlank()) return decryption;
    return new ControllerConfig.Decryption(sopsKeyFile, decryption.ageKeySecret());
  }
}
