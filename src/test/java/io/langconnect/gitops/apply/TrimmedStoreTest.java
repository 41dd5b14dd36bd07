package io.langconnect.gitops.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.FieldsV1;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrimmedStoreTest {

  @Test
  void keepsWhoWroteWhenButNotTheFieldSets() {
    FieldsV1 fields = new FieldsV1();
    fields.setAdditionalProperty("f:spec", Map.of("f:replicas", Map.of()));
    Deployment deployment = new DeploymentBuilder().withNewMetadata().withNamespace("ns").withName("db")
        .addToManagedFields(new ManagedFieldsEntryBuilder().withManager("langconnect-gitops").withOperation("Apply")
            .withTime("2026-12-01T10:00:00Z").withFieldsType("FieldsV1").withFieldsV1(fields).build())
        .endMetadata().withNewSpec().withReplicas(2).endSpec().build();
    TrimmedStore<Deployment> store = new TrimmedStore<>();

    store.put(store.getKey(deployment), deployment);

    var entry = store.get("ns/db").getMetadata().getManagedFields().get(0);
    assertThat(entry.getFieldsV1()).isNull();
    assertThat(entry.getManager()).isEqualTo("langconnect-gitops");
    assertThat(entry.getTime()).isEqualTo("2026-12-01T10:00:00Z");
    assertThat(store.get("ns/db").getSpec().getReplicas()).isEqualTo(2);
  }
}
