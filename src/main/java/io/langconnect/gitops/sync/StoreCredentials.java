package io.langconnect.gitops.sync;

import io.langconnect.gitops.values.EnvironmentValues;
import java.util.LinkedHashMap;
import java.util.Optional;

/** Whether the Secrets an object store's values name exist with their keys: without them no backup can upload. */
final class StoreCredentials {

  private StoreCredentials() {}

  /** How a missing object-store Secret ends its Degraded message; kept between syncs, which alone read Secrets. */
  static final String STORE_UNREACHABLE = "; backups cannot reach the object store until it does";

  /** A Secret the object store's values name that is missing (or lacks the key): no backup could upload. */
  static Optional<String> missing(SyncRun run, EnvironmentValues values) {
    if (!values.backup().enabled() || values.backup().objectStore().isEmpty()) return Optional.empty();
    var store = values.backup().objectStore().get();
    var refs = new LinkedHashMap<String, EnvironmentValues.SecretKey>();
    refs.put("backup.objectStore.s3Credentials.accessKeyId", store.accessKeyId());
    refs.put("backup.objectStore.s3Credentials.secretAccessKey", store.secretAccessKey());
    store.endpointCA().ifPresent(ca -> refs.put("backup.objectStore.endpointCA", ca));
    for (var ref : refs.entrySet()) {
      var secret = run.target.live().secret(values.namespace(), ref.getValue().name());
      boolean hasKey = secret.map(s -> (s.getData() != null && s.getData().containsKey(ref.getValue().key()))
          || (s.getStringData() != null && s.getStringData().containsKey(ref.getValue().key()))).orElse(false);
      if (!hasKey) {
        return Optional.of(values.origin(ref.getKey()) + ": " + ref.getKey() + ": Secret " + ref.getValue().name() + " in "
            + values.namespace() + (secret.isEmpty() ? " does not exist" : " has no key " + ref.getValue().key())
            + STORE_UNREACHABLE);
      }
    }
    return Optional.empty();
  }
}
