package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.values.ValuesFolder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

@Command(name = "sync", mixinStandardHelpOptions = true,
    description = "Sync once: validate, render and apply every environment (or one), prune what was removed.%n"
        + "Exit 0 when every environment synced, 1 when any did not, 2 for bad usage.")
final class SyncCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  ControllerOptions options;

  @Option(names = "--once", description = "Sync once and exit (the only mode of this command; `serve` keeps syncing).")
  boolean once = true;

  @Option(names = "--values", paramLabel = "DIR", description = "Use a local values folder instead of the repository.")
  Path values;

  @Option(names = "--env", paramLabel = "NAME", description = "Only this environment (nothing is pruned then).")
  String env;

  @Option(names = "--dry-run", description = "Ask the API server what would change; change nothing.")
  boolean dryRun;

  @Option(names = "--force", description = "Sync even while a running controller holds its Lease (the two then race:"
      + " applies, prunes and backups of both). Never needed for --dry-run.")
  boolean force;

  @Option(names = "--database-ready-timeout", paramLabel = "DURATION",
      description = "How long to wait for PostgreSQL before LangConnect (0s: do not wait). Default 5m.")
  String databaseReadyTimeout;

  @Override
  public Integer call() {
    ControllerConfig config = options.load();
    if (databaseReadyTimeout != null) {
      ControllerConfig.Sync s = config.sync();
      config = config.withSync(new ControllerConfig.Sync(s.driftInterval(),
          ControllerOptions.duration("--database-ready-timeout", databaseReadyTimeout), s.parallelism(), s.retries(),
          s.healthInterval(), s.backupTimeout()));
    }
    DesiredState desired = DesiredState.from(values, config);
    PrintWriter out = spec.commandLine().getOut();
    List<EnvironmentStatus> results = new ArrayList<>();
    try (ClusterSession cluster = new ClusterSession(config)) {
      if (!dryRun) refuseWhileAControllerLeads(cluster, config);
      for (ValuesFolder.Environment environment : desired.select(env)) {
        // Without --env, only the shard's (shard.clusters); --env names one on purpose.
        if (env == null && !cluster.service.syncs(environment)) continue;
        environment.problems().stream().filter(p -> !p.isError()).forEach(p -> spec.commandLine().getErr().println(p));
        results.add(cluster.service.sync(environment, desired.revision(), dryRun));
      }
      if (env == null) {
        List<String> present = desired.environments().stream().map(ValuesFolder.Environment::name).toList();
        for (String removed : cluster.service.removedEnvironments(present)) {
          results.add(cluster.service.pruneRemoved(removed, desired.revision(), dryRun, present.isEmpty()));
        }
      }
    } catch (KubernetesClientException e) {
      throw new Main.UserError("cannot reach the Kubernetes API: " + e.getMessage());
    }
    for (EnvironmentStatus status : results) {
      out.printf("%-16s %-11s %s%n", status.name(), status.result().label(), status.message());
    }
    out.flush();
    boolean ok = results.stream().allMatch(s -> s.result() == EnvironmentStatus.Result.SYNCED
        || s.result() == EnvironmentStatus.Result.PRUNED);
    return ok ? 0 : 1;
  }

  /**
   * A running controller's leader syncs and prunes too: a second writer beside it would race it (the issue 25 of two
   * writers). Refused while its Lease is held and fresh, unless --force, which is said on stderr.
   */
  private void refuseWhileAControllerLeads(ClusterSession cluster, ControllerConfig config) {
    String namespace = config.kubernetes().stateNamespace();
    Lease lease = cluster.client.leases().inNamespace(namespace).withName(config.leaseName()).get();
    if (lease == null || lease.getSpec() == null || lease.getSpec().getHolderIdentity() == null
        || lease.getSpec().getHolderIdentity().isEmpty() || lease.getSpec().getRenewTime() == null) return;
    int seconds = Optional.ofNullable(lease.getSpec().getLeaseDurationSeconds()).orElse(15);
    Instant renewed = lease.getSpec().getRenewTime().toInstant();
    if (renewed.plusSeconds(seconds).isBefore(Instant.now())) return; // expired: no controller leads
    String holder = "a running controller (" + lease.getSpec().getHolderIdentity() + ") holds Lease " + namespace + "/"
        + config.leaseName() + ", renewed " + Duration.between(renewed, Instant.now()).toSeconds() + "s ago";
    if (!force) {
      throw new Main.UserError(holder + ": `sync --once` would race it, prunes included; let it sync (POST"
          + " /api/v1/environments/NAME/sync), stop it, or pass --force");
    }
    spec.commandLine().getErr().println("WARNING: " + holder + "; syncing beside it anyway (--force): both may apply,"
        + " prune and back up at once");
  }
}
