package io.langconnect.gitops.sync;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.apply.Applier;
import io.langconnect.gitops.status.SyncRecord;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The reclaim policy of the volumes under an environment's claims, set as its values ask once they are bound. */
final class VolumeRetention {

  private VolumeRetention() {}

  /**
   * Sets the policy the values ask for (Retain for production) on the volumes bound to the environment's claims, once
   * they are bound; says so in an Event when it changed one. Returns what the status message adds ("" for nothing new).
   */
  static String apply(SyncRun run, EnvironmentValues values, List<HasMetadata> desired, SyncRecord record) {
    Optional<String> policy = values.postgres().persistence().reclaimPolicy();
    if (policy.isEmpty() || !values.postgres().persistence().enabled()) return "";
    List<String> claims = new ArrayList<>(desired.stream().filter(o -> o.getKind().equals("PersistentVolumeClaim"))
        .map(o -> o.getMetadata().getName()).toList());
    values.postgres().persistence().existingClaim().filter(claim -> !claims.contains(claim)).ifPresent(claims::add);
    try {
      List<Applier.Volume> volumes = run.target.applier().retainVolumes(values.namespace(), claims, policy.get());
      record.volumes(run.name, volumes);
      List<String> changed = volumes.stream().filter(Applier.Volume::changed)
          .map(v -> "volume " + v.volume() + " of claim " + v.claim()).toList();
      if (changed.isEmpty()) return "";
      String message = "set reclaim policy " + policy.get() + " on " + String.join(", ", changed)
          + (policy.get().equals("Retain") ? ": the data outlives its claim and namespace" : "");
      run.target.events().normal(values.namespace(), "VolumeReclaimPolicySet", message);
      return "; " + message;
    } catch (KubernetesClientException e) {
      if (Interruptions.isInterruption(e)) throw e;
      String message = "the reclaim policy " + policy.get() + " could not be set on the volumes of " + claims + " ("
          + Applier.describe(e) + "); tried again at the next sync";
      run.target.events().warning(values.namespace(), "VolumeReclaimPolicyNotSet", message);
      return "; " + message;
    }
  }
}
