package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Comparator;

/** Which object: enough to find it again, and the key of an inventory entry. */
public record ObjectRef(String apiVersion, String kind, String namespace, String name) {

  public static final Comparator<ObjectRef> ORDER =
      Comparator.comparing(ObjectRef::namespace).thenComparing(ObjectRef::kind).thenComparing(ObjectRef::name);

  public static ObjectRef of(HasMetadata object) {
    return new ObjectRef(object.getApiVersion(), object.getKind(), object.getMetadata().getNamespace(),
        object.getMetadata().getName());
  }

  /**
   * Kinds that hold data; pruning never deletes them. A CloudNativePG Cluster owns its instances' claims: deleting
   * it deletes them, so it is kept (and keeps running) until its owner deletes it.
   */
  public boolean isRetainedOnPrune() {
    return kind.equals("PersistentVolumeClaim") || kind.equals("Namespace") || isCloudnativePgCluster();
  }

  public boolean isCloudnativePgCluster() {
    return kind.equals("Cluster") && apiVersion.equals(CloudnativePg.API_VERSION);
  }

  @Override
  public String toString() {
    return kind + "/" + name;
  }
}
