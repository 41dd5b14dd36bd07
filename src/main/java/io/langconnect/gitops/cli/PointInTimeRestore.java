package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.apply.CloudnativePg;
import io.langconnect.gitops.apply.Health;
import io.langconnect.gitops.render.CloudnativePgModel;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.sync.SyncService;
import io.langconnect.gitops.values.EnvironmentValues;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import picocli.CommandLine;

/**
 * {@code restore --to TIME} for CloudNativePG: a new Cluster recovered from the object store's base backups and WAL up
 * to TIME, beside the environment's own, which keeps running untouched. Once it is healthy, {@code --confirm} makes it
 * the environment's database (a control the sync reads): LangConnect and the backups follow it; the old Cluster is
 * kept with its data until its owner deletes it.
 */
final class PointInTimeRestore {

  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);
  private static final Duration RECOVERY_TIMEOUT = Duration.ofMinutes(15);

  private final EnvironmentTarget target;
  private final CommandLine command;

  PointInTimeRestore(EnvironmentTarget target, CommandLine command) {
    this.target = target;
    this.command = command;
  }

  int run(EnvironmentValues bound, String time, boolean confirm) throws InterruptedException {
    String env = bound.environment();
    if (!bound.cloudnativePgArchives()) {
      throw new Main.UserError("--to: " + env + " is not on postgres.engine: cloudnative-pg with backup.objectStore;"
          + " point-in-time recovery replays the WAL that CloudNativePG archives there (use --backup or --from-file)");
    }
    OffsetDateTime when;
    try {
      when = OffsetDateTime.parse(time);
    } catch (DateTimeParseException e) {
      throw new Main.UserError("--to " + time + ": not a time; expected RFC 3339 with a zone, such as 2026-12-06T10:15:00Z");
    }
    PrintWriter out = command.getOut();
    try (ClusterSession cluster = new ClusterSession(target.config())) {
      KubernetesClient client = target.cluster(cluster, bound).client();
      if (!CloudnativePg.served(client)) {
        throw new Main.UserError("--to: cluster " + bound.cluster() + " does not serve CloudNativePG's API");
      }
      EnvironmentValues values = SyncService.recovered(bound, cluster.controls.read(env));
      String source = values.postgres().clusterName(values.release());
      String name = bound.release() + "-postgres-pitr-" + STAMP.format(when.toInstant());
      var recovered = client.genericKubernetesResources(CloudnativePg.API_VERSION, "Cluster")
          .inNamespace(values.namespace()).withName(name);
      String target = when.toInstant().toString();
      if (confirm) {
        GenericKubernetesResource live = recovered.get();
        Optional<String> unhealthy = health(live);
        if (unhealthy.isPresent()) {
          throw new Main.UserError("Cluster " + name + " recovered to " + target + " is not ready (" + unhealthy.get()
              + "); run `langconnect-gitops restore --env " + env + " --to " + time + "` first, nothing was switched");
        }
        cluster.controls.useRecoveredCluster(env, values.namespace() + "/" + values.release(), name);
        out.println(env + ": LangConnect switches to Cluster " + name + " (recovered to " + target + ") at the next sync,"
            + " now; Cluster " + source + " keeps running with its data until you delete it");
        out.flush();
        return 0;
      }
      if (recovered.get() == null) {
        // Under the controller's field manager: once confirmed, its next apply owns the whole spec.
        client.resource(CloudnativePgModel.recovery(values, source, name, target)).fieldManager(Labels.MANAGER)
            .forceConflicts().serverSideApply();
        out.println(env + ": recovering Cluster " + name + " from " + source + "'s backups up to " + target);
        out.flush();
      }
      long deadline = System.nanoTime() + RECOVERY_TIMEOUT.toNanos();
      Optional<String> unhealthy;
      while ((unhealthy = health(recovered.get())).isPresent()) {
        if (System.nanoTime() > deadline) {
          throw new Main.UserError("Cluster " + name + " did not recover within " + RECOVERY_TIMEOUT.toMinutes() + "m: "
              + unhealthy.get() + "; check `kubectl -n " + values.namespace() + " describe cluster " + name + "`");
        }
        Thread.sleep(2_000);
      }
      out.println(env + ": Cluster " + name + " recovered to " + target + " and healthy; inspect it through "
          + name + "-rw, then run `langconnect-gitops restore --env " + env + " --to " + time + " --confirm` to switch"
          + " LangConnect to it (the current Cluster " + source + " is left as it is)");
      out.flush();
      return 1;
    }
  }

  private static Optional<String> health(GenericKubernetesResource cluster) {
    return cluster == null ? Optional.of("it does not exist") : Health.clusterHealth(cluster);
  }
}
