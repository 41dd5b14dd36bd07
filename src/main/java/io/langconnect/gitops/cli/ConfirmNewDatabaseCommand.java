package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "confirm-new-database", mixinStandardHelpOptions = true,
    description = "Let an environment whose release or namespace changed start a new, empty database there. The old"
        + " volume claim is kept; the confirmation holds for this release and namespace only.")
final class ConfirmNewDatabaseCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  EnvironmentTarget target;

  @Override
  public Integer call() {
    EnvironmentValues values = target.environment();
    String where = values.namespace() + "/" + values.release();
    try (ClusterSession cluster = new ClusterSession(target.config())) {
      cluster.controls.confirmNewDatabase(values.environment(), where);
      spec.commandLine().getOut().println(values.environment() + ": a new, empty database in " + values.namespace()
          + " (release " + values.release() + ") is confirmed; the controller syncs it now");
      return 0;
    } catch (KubernetesClientException e) {
      throw new Main.UserError("cannot reach the Kubernetes API: " + e.getMessage());
    }
  }
}
