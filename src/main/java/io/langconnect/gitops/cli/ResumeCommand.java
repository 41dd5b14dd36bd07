package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "resume", mixinStandardHelpOptions = true,
    description = "Resume a suspended environment; the running controller syncs it at once.")
final class ResumeCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  ControllerOptions options;

  @Option(names = "--env", required = true, paramLabel = "NAME", description = "The environment.")
  String env;

  @Override
  public Integer call() {
    try (ClusterSession cluster = new ClusterSession(options.load())) {
      cluster.requireKnown(env);
      cluster.controls.resume(env);
      spec.commandLine().getOut().println(env + " resumed: the controller syncs it now");
      return 0;
    } catch (KubernetesClientException e) {
      throw new Main.UserError("cannot reach the Kubernetes API: " + e.getMessage());
    }
  }
}
