package io.langconnect.gitops.cli;

import io.langconnect.gitops.config.ConfigLoader;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.config.Durations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Options shared by the commands that talk to git and the cluster; flags override the config file. */
final class ControllerOptions {

  @Option(names = "--config", paramLabel = "FILE", description = "Controller config (YAML); see config/controller.yaml.")
  Path configFile;

  @Option(names = "--repo", paramLabel = "URL", description = "Values repository: https://, ssh://, git:// or file://.")
  String repo;

  @Option(names = "--branch", paramLabel = "NAME", description = "Branch to follow (default: main).")
  String branch;

  @Option(names = "--path", paramLabel = "DIR", description = "Folder of the values files inside the repository (default: .).")
  String path;

  @Option(names = "--kubeconfig", paramLabel = "FILE",
      description = "Cluster to use; default as kubectl: KUBECONFIG, ~/.kube/config, in-cluster.")
  String kubeconfig;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the bare clone is kept.")
  String workDir;

  @Option(names = "--state-namespace", paramLabel = "NS",
      description = "Namespace for inventories and the leader Lease (default: langconnect-gitops).")
  String stateNamespace;

  ControllerConfig load() {
    if (configFile != null && !Files.isRegularFile(configFile)) {
      throw new Main.UserError("--config " + configFile + ": no such file");
    }
    ControllerConfig config;
    try {
      config = ConfigLoader.load(Optional.ofNullable(configFile), System.getenv());
    } catch (ConfigLoader.ConfigException e) {
      throw new Main.UserError(e.getMessage());
    }
    ControllerConfig.Git git = config.git();
    config = config.withGit(new ControllerConfig.Git(
        repo != null ? repo : git.url(), branch != null ? branch : git.branch(), path != null ? path : git.path(),
        git.interval(), git.timeout(), workDir != null ? workDir : git.workDir(), git.auth()));
    ControllerConfig.Kubernetes k = config.kubernetes();
    return config.withKubernetes(new ControllerConfig.Kubernetes(
        stateNamespace != null ? stateNamespace : k.stateNamespace(), kubeconfig != null ? kubeconfig : k.kubeconfig(),
        k.leaderElection(), k.leaseName(), k.requestTimeout(), k.allowedNamespaces()));
  }

  static java.time.Duration duration(String option, String text) {
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new Main.UserError(option + " " + e.getMessage());
    }
  }
}
