package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.InventoryStore;
import io.langconnect.gitops.apply.ObjectDiff;
import io.langconnect.gitops.apply.ObjectRef;
import io.langconnect.gitops.apply.Ownership;
import io.langconnect.gitops.cluster.Clusters;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.sync.SyncService;
import io.langconnect.gitops.values.ValuesFolder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

@Command(name = "diff", mixinStandardHelpOptions = true,
    description = "Show what a sync would change, as a unified diff of live against desired objects.%n"
        + "Exit 0 when there is no difference, 1 when there are differences, 2 or more on error"
        + " (as flux diff and argocd app diff do).")
final class DiffCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  ControllerOptions options;

  @Option(names = "--values", paramLabel = "DIR", description = "Use a local values folder instead of the repository.")
  Path values;

  @Option(names = "--env", paramLabel = "NAME", description = "Only this environment.")
  String env;

  @Override
  public Integer call() {
    ControllerConfig config = options.load();
    DesiredState desired = DesiredState.from(values, config);
    PrintWriter out = spec.commandLine().getOut();
    boolean differs = false;
    try (ClusterSession cluster = new ClusterSession(config)) {
      for (ValuesFolder.Environment environment : desired.select(env)) {
        if (!environment.isValid()) {
          environment.problems().forEach(p -> spec.commandLine().getErr().println(p));
          throw new Main.UserError("environment " + environment.name() + " has invalid values; nothing to compare");
        }
        differs |= diffEnvironment(cluster, environment, out);
      }
      if (env == null) {
        List<String> present = desired.environments().stream().map(ValuesFolder.Environment::name).toList();
        for (String removed : cluster.service.removedEnvironments(present)) {
          differs = true;
          try {
            cluster.inventories.read(removed).ifPresent(inv -> inv.objects().keySet()
                .forEach(ref -> out.println(pruneLine(removed, ref))));
          } catch (InventoryStore.InvalidInventoryException e) {
            out.println("# " + removed + ": " + e.getMessage() + " (nothing would be pruned)");
          }
        }
      }
    } catch (KubernetesClientException | Clusters.UnavailableException e) {
      throw new Main.UserError("cannot reach the Kubernetes API: " + e.getMessage());
    }
    out.flush();
    return differs ? 1 : 0;
  }

  private static boolean diffEnvironment(ClusterSession cluster, ValuesFolder.Environment environment, PrintWriter out) {
    var values = SyncService.recovered(environment.values().get(), cluster.controls.read(environment.name()));
    List<HasMetadata> objects = StackRenderer.render(values, Optional.empty());
    Applier applier = cluster.clusters.get(values.cluster()).applier();
    boolean namespaceExists = applier.namespaceExists(values.namespace());
    boolean differs = false;
    for (HasMetadata object : objects) {
      Optional<HasMetadata> live = namespaceExists ? applier.live(object) : Optional.empty();
      if (live.isPresent() && !Ownership.isOurs(live.get(), environment.name())) {
        differs = true;
        out.println("# " + environment.name() + ": " + ObjectRef.of(object) + " exists and is not this environment's ("
            + Ownership.describe(live.get()) + "): a sync refuses to take it over");
        continue;
      }
      HasMetadata after = namespaceExists ? applier.preview(object) : object;
      List<String> lines = ObjectDiff.between(live.orElse(null), after);
      if (!lines.isEmpty()) {
        differs = true;
        out.println("# " + environment.name() + ": " + ObjectRef.of(object) + (live.isEmpty() ? " (new)" : " (changed)"));
        lines.forEach(out::println);
      }
    }
    Set<ObjectRef> desiredRefs = objects.stream().map(ObjectRef::of).collect(Collectors.toSet());
    Inventory previous;
    try {
      previous = cluster.inventories.read(environment.name()).orElse(Inventory.empty(environment.name()));
    } catch (InventoryStore.InvalidInventoryException e) {
      out.println("# " + environment.name() + ": " + e.getMessage() + " (nothing would be pruned; a sync rewrites it)");
      return true;
    }
    boolean moving = !previous.objects().isEmpty() && !previous.cluster().equals(values.cluster());
    boolean keptRunning = moving && cluster.service.leavesData(previous);
    if (moving) out.println("# " + environment.name() + ": moves from cluster " + previous.cluster() + " to "
        + values.cluster() + (keptRunning ? "; its database keeps running there with its data until `langconnect-gitops"
        + " prune --env " + environment.name() + " --cluster " + previous.cluster() + " --confirm`:" : "; there:"));
    Optional<ObjectRef> successor = desiredRefs.stream().filter(ref -> ref.kind().equals("StatefulSet")).findFirst();
    for (ObjectRef ref : previous.objects().keySet()) {
      if (moving || !desiredRefs.contains(ref)) {
        differs = true;
        boolean replaced = !moving && ref.kind().equals("Deployment") && successor.isPresent()
            && successor.get().name().equals(ref.name());
        out.println(replaced ? "# " + environment.name() + ": " + ref + " (would be stopped first, its pod gone before "
            + successor.get() + " starts on the same claim)"
            : keptRunning ? "# " + environment.name() + ": " + ref + " (kept until that prune)"
            : pruneLine(environment.name(), ref));
      }
    }
    return differs;
  }

  private static String pruneLine(String environment, ObjectRef ref) {
    return "# " + environment + ": " + ref + (ref.isRetainedOnPrune()
        ? " (no longer rendered; kept: volume claims are never pruned)" : " (would be pruned)");
  }
}
