package io.langconnect.gitops.cli;

import io.langconnect.gitops.values.ValuesFolder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** The {@code --values DIR} option shared by commands that read a values folder. */
final class ValuesOption {

  @Option(names = "--values", required = true, paramLabel = "DIR",
      description = "Folder with values.yaml (optional) and values-<env>.yaml files.")
  Path dir;

  List<ValuesFolder.Environment> load() {
    if (!Files.isDirectory(dir)) {
      throw new Main.UserError("--values " + dir + ": not a folder; expected the folder holding values-<env>.yaml files");
    }
    try {
      return ValuesFolder.load(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
    }
  }
}
