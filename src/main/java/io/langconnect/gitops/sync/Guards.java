package io.langconnect.gitops.sync;

import io.fabric8.kubernetes.api.model.Secret;
import io.langconnect.gitops.apply.Inventory;
import io.langconnect.gitops.apply.ObjectRef;
import io.langconnect.gitops.render.Names;
import io.langconnect.gitops.values.EnvironmentValues;
import io.langconnect.gitops.values.EnvironmentValues.Engine;
import io.langconnect.gitops.values.PostgresVersions;
import java.util.List;
import java.util.Optional;

/**
 * The checks that hold a commit before anything is applied, because applying it would lose data or could never
 * start. Pure: each is given the facts it needs and returns why the commit is held, or empty.
 */
final class Guards {

  static final String PASSWORD_KEY = "postgres-password";
  static final String CA_KEY = "ca.crt";

  private Guards() {}

  private static boolean hasKey(Secret secret, String key) {
    return (secret.getData() != null && secret.getData().containsKey(key))
        || (secret.getStringData() != null && secret.getStringData().containsKey(key));
  }

  /** A database whose password Secret is missing can never start: say so before applying anything. */
  static Optional<String> missingSecret(EnvironmentValues values, Optional<Secret> secret) {
    Optional<String> name = values.postgres().auth().existingSecret();
    if (name.isEmpty()) return Optional.empty();
    String where = values.origin("") + ": postgres.auth.existingSecret: Secret " + name.get() + " in namespace "
        + values.namespace();
    if (secret.isEmpty()) {
      return Optional.of(where + " does not exist, so neither pod could start; nothing was applied. Create it with"
          + " `kubectl create namespace " + values.namespace() + "` and `kubectl -n " + values.namespace()
          + " create secret generic " + name.get() + " --from-literal=" + PASSWORD_KEY + "=...`");
    }
    // CloudNativePG reads a basic-auth Secret (username and password); the other engines, postgres-password.
    List<String> keys = values.postgres().cloudnativePg() ? List.of("username", "password") : List.of(PASSWORD_KEY);
    for (String key : keys) {
      if (!hasKey(secret.get(), key)) {
        return Optional.of(where + " has no key " + key + ", so neither pod could start; nothing was applied");
      }
    }
    return Optional.empty();
  }

  /** An external database's CA Secret that is missing (or has no ca.crt) would keep LangConnect from starting. */
  static Optional<String> missingCaSecret(EnvironmentValues values, Optional<Secret> secret) {
    Optional<String> name = values.postgres().external().flatMap(EnvironmentValues.External::caSecret);
    if (name.isEmpty()) return Optional.empty();
    String where = values.origin("") + ": postgres.external.caSecret: Secret " + name.get() + " in namespace "
        + values.namespace();
    if (secret.isEmpty()) {
      return Optional.of(where + " does not exist, so LangConnect could not start; nothing was applied. Create it with"
          + " `kubectl -n " + values.namespace() + " create secret generic " + name.get() + " --from-file=ca.crt=CA.pem`");
    }
    return hasKey(secret.get(), CA_KEY) ? Optional.empty()
        : Optional.of(where + " has no key " + CA_KEY + ", so LangConnect could not start; nothing was applied");
  }

  /**
   * A new engine points LangConnect at another database: its data does not move by itself. Refused while the old
   * engine holds data ({@code heldData}: a bundled database on a claim; an external server always), unless the
   * operator confirmed the new database for this target.
   */
  static Optional<String> engineChange(EnvironmentValues values, Engine before, boolean heldData,
                                       Optional<String> confirmedFor) {
    Engine after = values.postgres().engine();
    if (after == before || !heldData) return Optional.empty();
    if (confirmedFor.filter(target(values)::equals).isPresent()) return Optional.empty();
    String env = values.environment();
    String stays = before == Engine.BUNDLED ? "the bundled database's claim" : "the external database it used";
    return Optional.of(values.origin("postgres.engine") + ": postgres.engine: " + after.key() + " would point "
        + env + " at another, empty database, while its data stays in " + stays + " (engine " + before.key()
        + "); refused, nothing was applied. Data does not move by itself: back up (`langconnect-gitops backup --env "
        + env + "`) and copy the dump out, confirm with `langconnect-gitops confirm-new-database --env " + env
        + "` (a bundled database's claim and Secret are kept), then `langconnect-gitops restore --env " + env
        + " --from-file DUMP --confirm` (README: \"Change the database engine\")");
  }

  /**
   * A data directory opens only in the major version that wrote it. {@code running} is the server's own
   * version when the collector reached it, else the major of the image running now.
   */
  static Optional<String> majorUpgrade(EnvironmentValues values, Optional<Integer> running, String runningSource) {
    if (!values.postgres().persistence().enabled() || running.isEmpty()) return Optional.empty();
    Optional<Integer> next = PostgresVersions.major(values.postgres().image().tag());
    if (next.isEmpty() || next.get().equals(running.get()) || values.postgres().allowMajorUpgrade()) return Optional.empty();
    return Optional.of(values.origin("postgres.image.tag") + ": postgres.image.tag: " + values.postgres().image().tag()
        + " is PostgreSQL " + next.get() + " but the data of " + values.environment() + " was written by PostgreSQL "
        + running.get() + " (" + runningSource + "), which " + next.get() + " cannot open; refused, nothing was applied."
        + " Run `langconnect-gitops backup --env " + values.environment() + "`, then restore into a new environment,"
        + " or set postgres.upgrade.allowMajor: true and follow the README's major-upgrade procedure");
  }

  /**
   * A new release name or namespace would start an empty database beside the old one, whose data is in
   * {@code oldClaim}. Allowed when {@code existingClaim} names the old claim, or when the operator confirmed the
   * new database for this target.
   */
  static Optional<String> newDatabase(EnvironmentValues values, Optional<ObjectRef> oldClaim, Optional<String> confirmedFor) {
    if (!values.postgres().persistence().enabled() || oldClaim.isEmpty()) return Optional.empty();
    Names names = new Names(values.release());
    String claim = values.postgres().persistence().existingClaim().orElse(names.dataClaim());
    if (oldClaim.get().namespace().equals(values.namespace()) && oldClaim.get().name().equals(claim)) return Optional.empty();
    if (confirmedFor.filter(target(values)::equals).isPresent()) return Optional.empty();
    String key = oldClaim.get().namespace().equals(values.namespace()) ? "release" : "namespace";
    String hint = key.equals("release")
        ? " Set postgres.persistence.existingClaim: " + oldClaim.get().name() + " to keep the data,"
        : " A claim cannot move between namespaces: back up (`langconnect-gitops backup --env " + values.environment()
            + "`) and restore there after, or";
    return Optional.of(values.origin(key) + ": " + key + ": " + values.release() + " in " + values.namespace()
        + " would start an empty database beside the data in PersistentVolumeClaim " + oldClaim.get().name() + " in "
        + oldClaim.get().namespace() + "; held, nothing was applied." + hint
        + " or confirm a new, empty database with `langconnect-gitops confirm-new-database --env "
        + values.environment() + "` (the old claim is kept)");
  }

  /**
   * The claim that held the environment's data (its inventory names it) is gone: its namespace was deleted, or the
   * claim itself. Starting the database again would start it empty on a new volume, beside the retained one. Held
   * until the operator binds the retained volume again (README) or confirms a new, empty database.
   */
  static Optional<String> claimLost(EnvironmentValues values, Optional<ObjectRef> recorded, boolean exists,
                                    Optional<String> confirmedFor) {
    if (!values.postgres().persistence().enabled() || recorded.isEmpty() || exists) return Optional.empty();
    if (!recorded.get().namespace().equals(values.namespace())) return Optional.empty(); // a move: newDatabase's
    if (confirmedFor.filter(target(values)::equals).isPresent()) return Optional.empty();
    return Optional.of(values.origin("postgres.persistence.enabled") + ": postgres.persistence: PersistentVolumeClaim "
        + recorded.get().name() + " in " + values.namespace() + ", which held the data of " + values.environment()
        + ", is gone (was the namespace deleted?); an empty database is not started in its place: held, nothing was"
        + " applied. If its volume was retained, bind it to the claim again (README: \"Bring back a retained volume\")"
        + " and then, as for a new database, run `langconnect-gitops confirm-new-database --env " + values.environment()
        + "`: the claim made next binds to that volume");
  }

  /**
   * Persistence turned off (or its key removed: the default is off) while the database runs on a claim would start
   * it empty on an emptyDir. Refused unless the operator confirms a new, empty database for this target.
   */
  static Optional<String> persistenceOff(EnvironmentValues values, Optional<ObjectRef> claimInUse,
                                         Optional<String> confirmedFor) {
    if (values.postgres().persistence().enabled() || claimInUse.isEmpty()) return Optional.empty();
    if (confirmedFor.filter(target(values)::equals).isPresent()) return Optional.empty();
    return Optional.of(values.origin("postgres.persistence.enabled") + ": postgres.persistence.enabled: false (or"
        + " unset: the default is false) would move the database of " + values.environment() + " off"
        + " PersistentVolumeClaim " + claimInUse.get().name() + " onto an empty emptyDir; refused, nothing was applied."
        + " To do it on purpose, back up (`langconnect-gitops backup --env " + values.environment() + "`), then run"
        + " `langconnect-gitops confirm-new-database --env " + values.environment() + "` (the claim is kept)");
  }

  /**
   * A persistent environment moved to another cluster starts there with an empty database, while its data stays on
   * {@code from}: held until the operator confirms the new database (after taking the data along, or not).
   */
  static Optional<String> move(EnvironmentValues values, String from, Optional<String> confirmedFor) {
    if (confirmedFor.filter(target(values)::equals).isPresent()) return Optional.empty();
    String env = values.environment();
    return Optional.of(values.origin("cluster") + ": cluster: " + values.cluster() + " would start an empty database"
        + " of " + env + " there, while its data stays on cluster " + from + "; held, nothing was applied. Take the data"
        + " along (`langconnect-gitops backup --env " + env + " --cluster " + from + "`, then, once moved,"
        + " `langconnect-gitops restore --env " + env + " --from-file DUMP --confirm`) and confirm the move with"
        + " `langconnect-gitops confirm-new-database --env " + env + "`: a final backup runs on " + from + " first"
        + " when backups are on, and the claims stay there");
  }

  /** What a new-database confirmation is for: it does not carry over to a later rename. */
  static String target(EnvironmentValues values) {
    return values.namespace() + "/" + values.release();
  }

  /**
   * The database's claim as an inventory names it: the PersistentVolumeClaim named like the PostgreSQL workload.
   * (A claim given by existingClaim is not in the inventory: the running workload says which claim it uses.)
   */
  static Optional<ObjectRef> dataClaim(Inventory inventory) {
    return inventory.objects().keySet().stream()
        .filter(ref -> ref.kind().equals("PersistentVolumeClaim"))
        .filter(ref -> inventory.objects().keySet().stream().anyMatch(d -> io.langconnect.gitops.apply.Workloads.isWorkloadKind(d.kind())
            && d.name().equals(ref.name()) && d.namespace().equals(ref.namespace())))
        .findFirst();
  }
}
