package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "suspend", mixinStandardHelpOptions = true,
    description = "Stop applying, pruning and correcting drift for an environment (as `flux suspend`); git is still"
        + " read and the status says what would change. Kept in the cluster: survives restarts and leader changes.")
final class SuspendCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  ControllerOptions options;

  @Option(names = "--env", required = true, paramLabel = "NAME", description = "The environment.")
  String env;

  @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the status and the Event.")
  String reason = "";

  @Option(names = "--by", paramLabel = "NAME", description = "Who suspends it (default: the local user name).")
  String by = System.getProperty("user.name", "cli");

  @Override
  public Integer call() {
    try (ClusterSession cluster = new ClusterSession(options.load())) {
      cluster.requireKnown(env);
      cluster.controls.suspend(env, by, reason);
      spec.commandLine().getOut().println(env + " suspended: nothing is applied, pruned or corrected until"
          + " `langconnect-gitops resume --env " + env + "`");
      return 0;
    } catch (KubernetesClientException e) {
      throw new Main.UserError("cannot reach the Kubernetes API: " + e.getMessage());
    }
  }
}
