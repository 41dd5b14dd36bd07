package io.langconnect.gitops.sync;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.ObjectRef;
import io.langconnect.gitops.apply.Workloads;
import io.langconnect.gitops.cluster.Clusters;
import io.langconnect.gitops.observe.ServerVersions;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.render.Names;
import io.langconnect.gitops.status.EnvironmentStatus.Result;
import io.langconnect.gitops.values.EnvironmentValues;
import io.langconnect.gitops.values.PostgresVersions;
import java.util.Optional;

/** The guards' reads of the live cluster, and what a guard that holds does: an Event, and the held outcome. */
final class PreApplyChecks {

  private final ServerVersions versions;

  PreApplyChecks(ServerVersions versions) {
    this.versions = versions;
  }

  /**
   * The checks made before anything is applied: a password Secret that is missing, a release or namespace change
   * that would start an empty database, a PostgreSQL major version that cannot open the data. Each holds the whole
   * commit, with an Event that says what to do.
   */
  Optional<SyncRun.Outcome> check(SyncRun run, EnvironmentValues values, Inventory previous, boolean preview) {
    String namespace = values.namespace();
    Optional<String> missing = Guards.missingSecret(values,
        values.postgres().auth().existingSecret().flatMap(secret -> run.target.live().secret(namespace, secret)));
    if (missing.isPresent()) return Optional.of(held(run, namespace, Result.FAILED, "MissingSecret", missing.get(), preview));
    Optional<String> missingCa = Guards.missingCaSecret(values, values.postgres().external()
        .flatMap(EnvironmentValues.External::caSecret).flatMap(secret -> run.target.live().secret(namespace, secret)));
    if (missingCa.isPresent()) return Optional.of(held(run, namespace, Result.FAILED, "MissingSecret", missingCa.get(), preview));
    if (values.postgres().cloudnativePg() && !run.target.live().cloudnativePgServed()) {
      return Optional.of(held(run, namespace, Result.FAILED, "CloudNativePGMissing", values.origin("postgres.engine")
          + ": postgres.engine: cloudnative-pg needs CloudNativePG's operator on cluster " + values.cluster() + ", whose"
          + " API server does not serve postgresql.cnpg.io/v1 Clusters; install CloudNativePG 1.27 to 1.29 (README:"
          + " Database engines), nothing was applied", preview));
    }
    Optional<EnvironmentValues.Engine> before = engineBefore(run.target, previous);
    if (before.isPresent()) {
      boolean heldData = before.get() != EnvironmentValues.Engine.BUNDLED || dataClaimInUse(run.target, previous).isPresent();
      Optional<String> change = Guards.engineChange(values, before.get(), heldData, run.controls.newDatabaseConfirmedFor());
      if (change.isPresent()) return Optional.of(held(run, namespace, Result.HELD, "EngineChangeRefused", change.get(), preview));
    }
    // The guards below protect the bundled database's volume; another engine keeps its data elsewhere.
    if (!values.postgres().bundled()) return Optional.empty();
    // The other guards protect data on a volume: without persistence there is none, unless the database runs on one.
    if (!values.postgres().persistence().enabled()) {
      Optional<String> off = Guards.persistenceOff(values, dataClaimInUse(run.target, previous),
          run.controls.newDatabaseConfirmedFor());
      return off.map(message -> held(run, namespace, Result.HELD, "PersistenceOffRefused", message, preview));
    }
    Optional<String> newDatabase = Guards.newDatabase(values, dataClaimInUse(run.target, previous),
        run.controls.newDatabaseConfirmedFor());
    if (newDatabase.isPresent()) {
      return Optional.of(held(run, namespace, Result.HELD, "NewDatabaseHeld", newDatabase.get(), preview));
    }
    Optional<ObjectRef> recorded = Guards.dataClaim(previous);
    Optional<String> lost = Guards.claimLost(values, recorded,
        recorded.isPresent() && run.target.live().claimExists(recorded.get().namespace(), recorded.get().name()),
        run.controls.newDatabaseConfirmedFor());
    if (lost.isPresent()) return Optional.of(held(run, namespace, Result.HELD, "NewDatabaseHeld", lost.get(), preview));
    Optional<Integer> running = versions.major(namespace, run.name);
    String source = "server_version_num";
    if (running.isEmpty()) {
      running = run.target.live().database(namespace, new Names(values.release()).postgres()).flatMap(Workloads::imageTag)
          .flatMap(PostgresVersions::major);
      source = "the running image's tag";
    }
    Optional<String> major = Guards.majorUpgrade(values, running, source);
    if (major.isPresent()) return Optional.of(held(run, namespace, Result.HELD, "MajorUpgradeRefused", major.get(), preview));
    return Optional.empty();
  }

  static SyncRun.Outcome held(SyncRun run, String namespace, Result result, String reason, String message, boolean preview) {
    if (!preview) run.target.events().warning(namespace, reason, message);
    if (run.controls.suspended()) {
      return run.outcome(namespace, Result.SUSPENDED, run.controls.suspension().get().describe()
          + "; when resumed it would be held: " + message);
    }
    return run.outcome(namespace, result, message);
  }

  /**
   * The engine the environment ran on, as its live LangConnect Deployment says (its annotation, or none for bundled);
   * empty when there is none yet.
   */
  private static Optional<EnvironmentValues.Engine> engineBefore(Clusters.Target target, Inventory previous) {
    for (ObjectRef ref : previous.objects().keySet()) {
      if (!ref.kind().equals("Deployment")) continue;
      Optional<HasMetadata> langconnect = target.live().workload(ref)
          .filter(w -> Labels.LANGCONNECT.equals(w.getMetadata().getLabels().get(Labels.COMPONENT)));
      if (langconnect.isPresent()) {
        return Optional.of(Optional.ofNullable(langconnect.get().getMetadata().getAnnotations())
            .map(a -> a.get(Labels.ENGINE_ANNOTATION)).map(EnvironmentValues.Engine::of)
            .orElse(EnvironmentValues.Engine.BUNDLED));
      }
    }
    return Optional.empty();
  }

  /** The claim the environment's running database uses now (found through its live workload), if any. */
  static Optional<ObjectRef> dataClaimInUse(Clusters.Target target, Inventory previous) {
    for (ObjectRef ref : previous.objects().keySet()) {
      if (!Workloads.isWorkloadKind(ref.kind())) continue;
      Optional<HasMetadata> database = target.live().database(ref);
      if (database.isPresent()) {
        return Workloads.claims(database.get()).stream().findFirst()
            .map(claim -> new ObjectRef("v1", "PersistentVolumeClaim", ref.namespace(), claim));
      }
    }
    return Guards.dataClaim(previous);
  }
}
