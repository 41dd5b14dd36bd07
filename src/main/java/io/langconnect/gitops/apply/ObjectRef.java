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

  /** Kinds that hold data; pruning never deletes them. */
  public boolean isRetainedOnPrune() {
    return kind.equals("PersistentVolumeClaim") || kind.equals("Namespace");
  }

  @Override
  public String toString() {
    return kind + "/" + name;
  }
}
