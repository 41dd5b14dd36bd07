package io.langconnect.gitops.cli;

import io.langconnect.gitops.cluster.Clusters;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.values.EnvironmentValues;
import io.langconnect.gitops.values.ValuesFolder;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** One environment to act on, as the repository (or a local values folder) defines it: for backup and restore. */
final class EnvironmentTarget {

  @Mixin
  ControllerOptions options;

  @Option(names = "--env", required = true, paramLabel = "NAME", description = "The environment.")
  String env;

  @Option(names = "--values", paramLabel = "DIR", description = "Use a local values folder instead of the repository.")
  Path values;

  @Option(names = "--cluster", paramLabel = "NAME", description = "The cluster to act on (default: the environment's"
      + " cluster: value). After a move, the one it left still holds its data.")
  String cluster;

  private ControllerConfig config;

  ControllerConfig config() {
    if (config == null) config = options.load();
    return config;
  }

  EnvironmentValues environment() {
    ValuesFolder.Environment environment = DesiredState.from(values, config()).select(env).get(0);
    if (!environment.isValid()) {
      throw new Main.UserError("environment " + env + " has invalid values: " + environment.problems().get(0));
    }
    return environment.values().get();
  }

  /** Where the environment's database is: --cluster, else where its values place it. */
  Clusters.Target cluster(ClusterSession session, EnvironmentValues environment) {
    String name = cluster != null ? cluster : environment.cluster();
    if (!session.clusters.knows(name)) {
      throw new Main.UserError("--cluster " + name + ": no such cluster; expected one of: "
          + String.join(", ", session.clusters.names()));
    }
    try {
      return session.clusters.get(name);
    } catch (Clusters.UnavailableException e) {
      throw new Main.UserError(e.getMessage());
    }
  }
}
