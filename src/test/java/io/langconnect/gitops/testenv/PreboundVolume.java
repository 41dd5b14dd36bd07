package io.langconnect.gitops.testenv;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * A volume made ready for one claim, as an administrator pre-provisions one: its claimRef names the claim and its
 * class is one no StorageClass object has, so the claim binds at once, without a node or a provisioner. Its reclaim
 * policy is Delete, as most StorageClasses give their volumes.
 */
public final class PreboundVolume {

  public static final String STORAGE_CLASS = "prebound";

  private PreboundVolume() {}

  public static PersistentVolume create(KubernetesClient admin, String name, String namespace, String claim) {
    return admin.resource(new PersistentVolumeBuilder().withNewMetadata().withName(name).endMetadata()
        .withNewSpec().withCapacity(java.util.Map.of("storage", new Quantity("100Gi"))).withAccessModes("ReadWriteOnce")
        .withStorageClassName(STORAGE_CLASS).withPersistentVolumeReclaimPolicy("Delete")
        .withNewHostPath().withPath("/tmp/" + name).endHostPath()
        .withNewClaimRef().withNamespace(namespace).withName(claim).endClaimRef()
        .endSpec().build()).create();
  }

  public static String policy(KubernetesClient admin, String name) {
    PersistentVolume volume = admin.persistentVolumes().withName(name).get();
    return volume == null ? null : volume.getSpec().getPersistentVolumeReclaimPolicy();
  }
}
