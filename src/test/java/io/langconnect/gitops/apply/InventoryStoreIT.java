package io.langconnect.gitops.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.langconnect.gitops.testenv.LocalControlPlane;
import io.langconnect.gitops.values.NamespacePolicy;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two controllers that both believe they lead (an upgrade's old replica still finishing a sync) write one
 * environment's inventory: the second write, made from a stale read, is refused instead of replacing the first.
 */
@ExtendWith(LocalControlPlane.class)
class InventoryStoreIT {

  private static final ObjectRef DEPLOYMENT = new ObjectRef("apps/v1", "Deployment", "it-inv", "langconnect-langconnect");
  private static final ObjectRef SERVICE = new ObjectRef("v1", "Service", "it-inv", "langconnect-postgres");

  private static InventoryStore store(LocalControlPlane plane, String stateNs) {
    return new InventoryStore(plane.admin(), new NamespacePolicy(NamespacePolicy.DEFAULT_PATTERNS, stateNs),
        new Retry(3, Duration.ofMillis(20), Duration.ofMillis(50)));
  }

  private static Inventory inventory(String revision, ObjectRef... refs) {
    Map<ObjectRef, Inventory.Entry> objects = new java.util.HashMap<>();
    for (ObjectRef ref : refs) objects.put(ref, new Inventory.Entry("h-" + revision, revision));
    return new Inventory("inv", "it-inv", revision, objects);
  }

  @Test
  void aWriteFromAStaleReadIsRefusedAndTheNewerRecordStays(LocalControlPlane plane) throws Exception {
    String stateNs = plane.uniqueNamespace("it-inventory");
    InventoryStore old = store(plane, stateNs);
    InventoryStore current = store(plane, stateNs);

    // Neither has a record yet: the first to write makes it, the other's create is refused.
    assertThat(old.read("inv")).isEmpty();
    assertThat(current.read("inv")).isEmpty();
    current.write(inventory("r2", DEPLOYMENT, SERVICE));
    assertThatThrownBy(() -> old.write(inventory("r1", DEPLOYMENT)))
        .isInstanceOf(InventoryStore.ConflictException.class)
        .hasMessageContaining("changed since this sync read it").hasMessageContaining("not written over it");
    assertThat(current.read("inv").orElseThrow().revision()).isEqualTo("r2");

    // Both read it; one writes; the other's write from its older read is refused, and so is its delete.
    old.read("inv");
    current.write(inventory("r3", DEPLOYMENT, SERVICE));
    assertThatThrownBy(() -> old.write(inventory("r1", DEPLOYMENT))).isInstanceOf(InventoryStore.ConflictException.class);
    old.read("inv");
    current.write(inventory("r3b", DEPLOYMENT, SERVICE));
    assertThatThrownBy(() -> old.delete("inv")).isInstanceOf(InventoryStore.ConflictException.class);
    Inventory kept = current.read("inv").orElseThrow();
    assertThat(kept.revision()).isEqualTo("r3b");
    assertThat(kept.objects()).containsOnlyKeys(DEPLOYMENT, SERVICE);

    // Read afresh, the same store writes again, and a store that wrote last writes on without reading.
    old.read("inv");
    old.write(inventory("r4", DEPLOYMENT, SERVICE));
    old.write(inventory("r5", DEPLOYMENT, SERVICE));
    assertThat(current.read("inv").orElseThrow().revision()).isEqualTo("r5");
    current.delete("inv");
    assertThat(old.read("inv")).isEmpty();
    plane.admin().namespaces().withName(stateNs).delete();
  }
}
