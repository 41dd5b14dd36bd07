package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "apply-without-backup", mixinStandardHelpOptions = true,
    description = "Let the next sync apply a held database change without the backup before it, once. For a"
        + " database that does not run (a crash loop, an OOM kill), which no backup can be taken of.")
final class ApplyWithoutBackupCommand implements Callable<Integer> {

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
      cluster.controls.skipBackupOnce(env);
      spec.commandLine().getOut().println(env + ": its next database change is applied without a backup first, while"
          + " the database is not running; the controller syncs it now");
      return 0;
    } catch (KubernetesClientException e) {
      throw new Main.UserError("cannot reach the Kubernetes API: " + e.getMessage());
    }
  }
}
