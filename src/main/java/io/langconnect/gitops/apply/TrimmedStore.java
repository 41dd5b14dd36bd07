package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.List;

/**
 * The watch cache's store: every object is kept without the field sets of its managedFields, which nothing here
 * reads and which are most of an object's metadata (every status writer adds its own). Who wrote it, how and when
 * stays: drift is told from the controller's own applies by that. The object handed to event handlers is the one
 * stored, so they see it trimmed too.
 */
final class TrimmedStore<T extends HasMetadata> extends BasicItemStore<T> {

  private final java.util.function.BiConsumer<String, T> stored;

  TrimmedStore() {
    this((key, object) -> { });
  }

  /** {@code stored} hears each object as it is stored, by its key (namespace/name). */
  TrimmedStore(java.util.function.BiConsumer<String, T> stored) {
    super(Cache::metaNamespaceKeyFunc);
    this.stored = stored;
  }

  @Override
  public T put(String key, T object) {
    List<ManagedFieldsEntry> entries = object.getMetadata().getManagedFields();
    if (entries != null) entries.forEach(entry -> entry.setFieldsV1(null));
    T previous = super.put(key, object);
    stored.accept(key, object);
    return previous;
  }
}
