package io.langconnect.gitops.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CloudnativePgBackupsTest {

  @Test
  void aBackupThatHasNeitherCompletedNorFailedHoldsTheNextOfItsCluster() {
    assertThat(CloudnativePgBackups.unfinished(List.of(backup("monday", "db", "completed"),
        backup("tuesday", "db", "failed")), "db")).isEmpty();
    assertThat(CloudnativePgBackups.unfinished(List.of(backup("monday", "db", "completed"),
        backup("scheduled", "db", "running")), "db")).contains("Backup scheduled (running)");
    assertThat(CloudnativePgBackups.unfinished(List.of(backup("new", "db", null)), "db"))
        .contains("Backup new (not started yet)");
  }

  /** After a failover CloudNativePG retries such a backup once archiving works, while it holds back no other. */
  @Test
  void aBackupWaitingForWalArchivingIsUnfinished() {
    assertThat(CloudnativePgBackups.unfinished(List.of(backup("scheduled", "db", "walArchivingFailing")), "db"))
        .contains("Backup scheduled (walArchivingFailing)");
  }

  @Test
  void anotherClustersBackupsDoNotHoldIt() {
    assertThat(CloudnativePgBackups.unfinished(List.of(backup("other", "db-pitr-1", "running")), "db")).isEmpty();
  }

  private static GenericKubernetesResource backup(String name, String cluster, String phase) {
    GenericKubernetesResource backup = new GenericKubernetesResourceBuilder().withApiVersion("postgresql.cnpg.io/v1")
        .withKind("Backup").withNewMetadata().withName(name).withNamespace("prod").endMetadata().build();
    backup.setAdditionalProperty("spec", Map.of("cluster", Map.of("name", cluster), "method", "barmanObjectStore"));
    Map<String, Object> status = new LinkedHashMap<>();
    if (phase != null) status.put("phase", phase);
    backup.setAdditionalProperty("status", status);
    return backup;
  }
}
