package io.langconnect.gitops.cli;

import io.langconnect.gitops.config.ConfigLoader;
import io.langconnect.gitops.values.NamespacePolicy;
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
    NamespacePolicy namespaces;
    try {
      namespaces = ConfigLoader.load(Optional.ofNullable(config), System.getenv()).kubernetes().namespacePolicy();
    } catch (ConfigLoader.ConfigException e) {
      throw new Main.UserError(e.getMessage());
    }
    try {
      return ValuesFolder.load(dir, namespaces);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
    }
  }
}
