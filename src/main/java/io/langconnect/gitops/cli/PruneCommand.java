package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.InventoryStore;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "prune", mixinStandardHelpOptions = true,
    description = "Confirm the held prune of an environment whose values file was removed (production, or every file"
        + " at once), or with --cluster, of the database a move left running on its old cluster. Without --confirm,"
        + " lists what would be deleted and exits 1. Volume claims and the namespace are always kept.")
final class PruneCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  ControllerOptions options;

  @Option(names = "--env", required = true, paramLabel = "NAME", description = "The removed environment.")
  String env;

  @Option(names = "--cluster", paramLabel = "NAME",
      description = "The cluster the environment moved away from: prune what it left running there.")
  String leftOn;

  @Option(names = "--confirm", description = "Really prune it: the running controller (or the next `sync`) deletes its objects.")
  boolean confirm;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (ClusterSession cluster = new ClusterSession(options.load())) {
      Inventory inventory = leftOn == null ? cluster.inventories.read(env).orElseThrow(() -> new Main.UserError(
          "environment " + env + " has no inventory in " + cluster.inventories.namespace() + ": nothing to prune"))
          : cluster.inventories.departed(env).stream().filter(left -> left.cluster().equals(leftOn)).findFirst()
              .orElseThrow(() -> new Main.UserError("environment " + env + " left nothing on cluster " + leftOn
                  + " (no record of a move away from it in " + cluster.inventories.namespace() + "): nothing to prune"));
      if (!confirm) {
        out.println("would prune from " + inventory.namespace() + (leftOn == null ? "" : " on cluster " + leftOn)
            + " (PersistentVolumeClaims and the namespace are kept):");
        inventory.objects().keySet().forEach(ref -> out.println("  " + ref + (ref.isRetainedOnPrune() ? " (kept)" : "")));
        out.println("run again with --confirm to prune");
        out.flush();
        return 1;
      }
      if (leftOn == null) {
        cluster.controls.confirmPrune(env, inventory.revision());
      } else {
        cluster.controls.confirmPruneLeft(env, leftOn, inventory.revision());
      }
      out.println(env + ": prune" + (leftOn == null ? "" : " on cluster " + leftOn)
          + " confirmed; the controller prunes it now (or the next `sync` does)");
      return 0;
    } catch (InventoryStore.InvalidInventoryException e) {
      throw new Main.UserError(e.getMessage());
    } catch (KubernetesClientException e) {
      throw new Main.UserError("cannot reach the Kubernetes API: " + e.getMessage());
    }
  }
}
