package io.langconnect.gitops.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Health as a user reads it: Ready only when everything rolled out; otherwise the object and its own reason. */
class HealthTest {

  private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

  private static Deployment deployment(String name, long generation, long observed, int updated, int available) {
    return new DeploymentBuilder().withNewMetadata().withName(name).withGeneration(generation).endMetadata()
        .withNewSpec().withReplicas(1).withNewSelector().addToMatchLabels("app", name).endSelector().endSpec()
        .withNewStatus().withObservedGeneration(observed).withReplicas(updated).withUpdatedReplicas(updated)
        .withAvailableReplicas(available).endStatus().build();
  }

  private static Pod waiting(String deployment, String reason, String message) {
    return new PodBuilder().withNewMetadata().withName(deployment + "-abc").addToLabels("app", deployment).endMetadata()
        .withNewStatus().addNewContainerStatus().withName("main").withNewState().withNewWaiting().withReason(reason)
        .withMessage(message).endWaiting().endState().endContainerStatus().endStatus().build();
  }

  private static Health assess(List<? extends io.fabric8.kubernetes.api.model.HasMetadata> deployments, List<Pod> pods, List<PersistentVolumeClaim> claims, List<Job> jobs) {
    return Health.assess(new Health.Observed(deployments, pods, claims, jobs), NOW);
  }

  @Test
  void readyOnlyWhenEveryDeploymentRolledOutItsCurrentGeneration() {
    Health ready = assess(List.of(deployment("db", 2, 2, 1, 1), deployment("app", 1, 1, 1, 1)), List.of(), List.of(), List.of());
    assertThat(ready.state()).isEqualTo(Health.State.READY);

    assertThat(assess(List.of(deployment("db", 3, 2, 1, 1)), List.of(), List.of(), List.of()))
        .isEqualTo(new Health(Health.State.PROGRESSING, "Deployment db: generation 3 not observed yet"));
    assertThat(assess(List.of(deployment("db", 2, 2, 1, 0)), List.of(), List.of(), List.of()))
        .isEqualTo(new Health(Health.State.PROGRESSING, "Deployment db: 0 of 1 replica(s) available"));
    assertThat(assess(List.of(deployment("db", 2, 2, 0, 1)), List.of(), List.of(), List.of()))
        .isEqualTo(new Health(Health.State.PROGRESSING, "Deployment db: 0 of 1 replica(s) updated"));
  }

  private static StatefulSet statefulSet(String current, String update, int replicas, int updated, int available) {
    return new StatefulSetBuilder().withNewMetadata().withName("db").withGeneration(4L).endMetadata()
        .withNewSpec().withReplicas(1).withNewSelector().addToMatchLabels("app", "db").endSelector().endSpec()
        .withNewStatus().withObservedGeneration(4L).withReplicas(replicas).withUpdatedReplicas(updated)
        .withAvailableReplicas(available).withReadyReplicas(available).withCurrentRevision(current)
        .withUpdateRevision(update).endStatus().build();
  }

  @Test
  void theDatabasesStatefulSetIsReadyOnceItsOnePodRunsTheNewRevision() {
    assertThat(assess(List.of(statefulSet("db-1", "db-1", 1, 1, 1)), List.of(), List.of(), List.of()).state())
        .isEqualTo(Health.State.READY);
    // Its old pod is being replaced: none of the new revision yet.
    assertThat(assess(List.of(statefulSet("db-1", "db-2", 1, 0, 1)), List.of(), List.of(), List.of()))
        .isEqualTo(new Health(Health.State.PROGRESSING, "StatefulSet db: 0 of 1 replica(s) updated"));
    // The old pod is gone and the new one not yet started: nothing runs.
    assertThat(assess(List.of(statefulSet("db-1", "db-2", 0, 0, 0)), List.of(), List.of(), List.of()))
        .isEqualTo(new Health(Health.State.PROGRESSING, "StatefulSet db: 0 of 1 replica(s) updated"));
    assertThat(assess(List.of(statefulSet("db-2", "db-2", 1, 1, 0)),
        List.of(waiting("db", "CrashLoopBackOff", "back-off 5m0s")), List.of(), List.of()))
        .isEqualTo(new Health(Health.State.DEGRADED, "StatefulSet db: pod db-abc container main is CrashLoopBackOff: back-off 5m0s"));
  }

  @Test
  void stuckPodsNameTheObjectAndThePodsOwnReason() {
    Health pull = assess(List.of(deployment("app", 1, 1, 1, 0)),
        List.of(waiting("app", "ImagePullBackOff", "Back-off pulling image \"nope:1\"")), List.of(), List.of());
    assertThat(pull).isEqualTo(new Health(Health.State.DEGRADED,
        "Deployment app: pod app-abc container main is ImagePullBackOff: Back-off pulling image \"nope:1\""));

    Health secret = assess(List.of(deployment("db", 1, 1, 1, 0)),
        List.of(waiting("db", "CreateContainerConfigError", "secret \"auth\" not found")), List.of(), List.of());
    assertThat(secret.state()).isEqualTo(Health.State.DEGRADED);
    assertThat(secret.message()).contains("CreateContainerConfigError: secret \"auth\" not found");

    Pod unschedulable = new PodBuilder().withNewMetadata().withName("db-x").addToLabels("app", "db").endMetadata()
        .withNewStatus().addNewCondition().withType("PodScheduled").withStatus("False").withReason("Unschedulable")
        .withMessage("0/1 nodes are available: 1 Insufficient memory.").endCondition().endStatus().build();
    assertThat(assess(List.of(deployment("db", 1, 1, 1, 0)), List.of(unschedulable), List.of(), List.of()).message())
        .isEqualTo("Deployment db: pod db-x is Unschedulable: 0/1 nodes are available: 1 Insufficient memory.");

    assertThat(assess(List.of(deployment("app", 1, 1, 1, 0)), List.of(waiting("other", "CrashLoopBackOff", "x")),
        List.of(), List.of()).state()).as("another Deployment's pod").isEqualTo(Health.State.PROGRESSING);
  }

  @Test
  void aRolloutPastItsDeadlineIsDegraded() {
    Deployment stalled = new DeploymentBuilder(deployment("app", 2, 2, 0, 1)).editStatus().addNewCondition()
        .withType("Progressing").withStatus("False").withReason("ProgressDeadlineExceeded")
        .withMessage("ReplicaSet \"app-2\" has timed out progressing.").endCondition().endStatus().build();
    assertThat(assess(List.of(stalled), List.of(), List.of(), List.of()))
        .isEqualTo(new Health(Health.State.DEGRADED, "Deployment app: ReplicaSet \"app-2\" has timed out progressing."));
  }

  @Test
  void anUnboundClaimAPodWaitsForIsProgressingThenDegraded() {
    Pod mounting = new PodBuilder().withNewMetadata().withName("db-x").endMetadata().withNewSpec().addNewVolume()
        .withName("data").withNewPersistentVolumeClaim().withClaimName("data").endPersistentVolumeClaim().endVolume()
        .endSpec().build();
    PersistentVolumeClaim fresh = claim(NOW.minusSeconds(30));
    assertThat(assess(List.of(), List.of(mounting), List.of(fresh), List.of()))
        .isEqualTo(new Health(Health.State.PROGRESSING, "PersistentVolumeClaim data is Pending"));
    assertThat(assess(List.of(), List.of(mounting), List.of(claim(NOW.minusSeconds(11 * 60))), List.of())).isEqualTo(
        new Health(Health.State.DEGRADED,
            "PersistentVolumeClaim data is Pending after 10m (no volume could be provisioned for it)"));
    assertThat(assess(List.of(), List.of(), List.of(claim(NOW.minusSeconds(86_000))), List.of()).state())
        .as("the backups claim waits for its first Job (WaitForFirstConsumer): no pod mounts it yet")
        .isEqualTo(Health.State.READY);
  }

  @Test
  void theLatestBackupJobFailingIsDegraded() {
    Job older = job("backup-1", NOW.minusSeconds(7200), "Failed");
    Job newer = job("backup-2", NOW.minusSeconds(60), "Complete");
    assertThat(assess(List.of(), List.of(), List.of(), List.of(older, newer)).state()).isEqualTo(Health.State.READY);
    Job failed = job("backup-3", NOW.minusSeconds(30), "Failed");
    assertThat(assess(List.of(), List.of(), List.of(), List.of(older, newer, failed)).message())
        .isEqualTo("backup Job backup-3 failed: BackoffLimitExceeded (Job has reached the specified backoff limit)");
  }

  private static PersistentVolumeClaim claim(Instant created) {
    return new PersistentVolumeClaimBuilder().withNewMetadata().withName("data").withCreationTimestamp(created.toString())
        .endMetadata().withNewStatus().withPhase("Pending").endStatus().build();
  }

  private static Job job(String name, Instant created, String condition) {
    return new JobBuilder().withNewMetadata().withName(name).withCreationTimestamp(created.toString()).endMetadata()
        .withNewStatus().addNewCondition().withType(condition).withStatus("True")
        .withReason(condition.equals("Failed") ? "BackoffLimitExceeded" : null)
        .withMessage(condition.equals("Failed") ? "Job has reached the specified backoff limit" : null)
        .endCondition().endStatus().build();
  }

  private static Pod withDatabaseProbe(boolean ready, Instant started) {
    return new PodBuilder().withNewMetadata().withName("app-abc").addToLabels("app", "app").endMetadata()
        .withNewStatus().addNewContainerStatus().withName("langconnect").withReady(true).withNewState().withNewRunning()
        .endRunning().endState().endContainerStatus()
        .addNewContainerStatus().withName("database-probe").withReady(ready).withNewState().withNewRunning()
        .withStartedAt(started.toString()).endRunning().endState().endContainerStatus().endStatus().build();
  }

  @Test
  void anExternalDatabaseThatDoesNotAnswerIsProgressingAtFirstThenDegraded() {
    Health starting = assess(List.of(deployment("app", 1, 1, 1, 0)), List.of(withDatabaseProbe(false, NOW.minusSeconds(20))),
        List.of(), List.of());
    assertThat(starting).isEqualTo(new Health(Health.State.PROGRESSING, "Deployment app: pod app-abc: the external"
        + " database does not answer pg_isready (container database-probe not ready); Deployment app: 0 of 1 replica(s) available"));
    Health down = assess(List.of(deployment("app", 1, 1, 1, 0)), List.of(withDatabaseProbe(false, NOW.minusSeconds(600))),
        List.of(), List.of());
    assertThat(down).isEqualTo(new Health(Health.State.DEGRADED, "Deployment app: pod app-abc: the external database"
        + " does not answer pg_isready (container database-probe not ready)"));
    assertThat(assess(List.of(deployment("app", 1, 1, 1, 1)), List.of(withDatabaseProbe(true, NOW.minusSeconds(600))),
        List.of(), List.of()).state()).isEqualTo(Health.State.READY);
  }

  private static io.fabric8.kubernetes.api.model.GenericKubernetesResource cluster(int instances, Map<String, Object> status) {
    var cluster = new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withApiVersion("postgresql.cnpg.io/v1")
        .withKind("Cluster").withNewMetadata().withName("db").withGeneration(2L).endMetadata().build();
    cluster.setAdditionalProperty("spec", Map.of("instances", instances));
    if (status != null) cluster.setAdditionalProperty("status", status);
    return cluster;
  }

  @Test
  void aCloudnativePgClusterIsReadyOnceEveryInstanceIsAndItsOperatorSaysItIsHealthy() {
    Map<String, Object> ready = Map.of("type", "Ready", "status", "True", "observedGeneration", 2);
    assertThat(assess(List.of(cluster(2, Map.of("readyInstances", 2, "phase", "Cluster in healthy state",
        "conditions", List.of(ready)))), List.of(), List.of(), List.of()).state()).isEqualTo(Health.State.READY);
    assertThat(assess(List.of(cluster(2, Map.of("readyInstances", 1, "phase", "Failing over",
        "phaseReason", "Failing over from db-1 to db-2", "conditions", List.of()))), List.of(), List.of(), List.of()))
        .isEqualTo(new Health(Health.State.PROGRESSING,
            "Cluster db: 1 of 2 instance(s) ready (Failing over: Failing over from db-1 to db-2)"));
    assertThat(assess(List.of(cluster(1, null)), List.of(), List.of(), List.of()).message())
        .isEqualTo("Cluster db: 0 of 1 instance(s) ready (the operator has not reported yet: is CloudNativePG running?)");
  }

  @Test
  void aPodWaitingForASecretTheEnvironmentAppliesNamesItMissingAndOnlyThat() {
    List<ObjectRef> applied = List.of(new ObjectRef("v1", "Secret", "ns", "langconnect-postgres"),
        new ObjectRef("v1", "Service", "ns", "openai"));
    String waiting = "Deployment langconnect-langconnect: pod langconnect-langconnect-1: container langconnect is"
        + " CreateContainerConfigError: secret \"%s\" not found";
    assertThat(new Health(Health.State.DEGRADED, waiting.formatted("langconnect-postgres")).missesOneOf(applied)).isTrue();
    // A Secret the user made (their OpenAI key) is theirs to bring back; a Service of the same name is no Secret.
    assertThat(new Health(Health.State.DEGRADED, waiting.formatted("openai")).missesOneOf(applied)).isFalse();
    assertThat(new Health(Health.State.PROGRESSING, waiting.formatted("langconnect-postgres")).missesOneOf(applied)).isFalse();
  }
}
