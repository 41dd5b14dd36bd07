package io.langconnect.gitops.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import org.junit.jupiter.api.Test;

/** Which changes of a managed object are drift to look at, and which are not. */
class DriftWatchTest {

  private static final Deployment APPLIED = new DeploymentBuilder().withNewMetadata().withName("db")
      .addToLabels("app.kubernetes.io/managed-by", "langconnect-gitops")
      .addToAnnotations("langconnect-gitops.io/revision", "abc")
      .addToManagedFields(new ManagedFieldsEntryBuilder().withManager("langconnect-gitops").withOperation("Apply")
          .withTime("2026-12-01T10:00:00Z").build())
      .endMetadata().withNewSpec().withReplicas(1).endSpec().build();

  @Test
  void someoneElsesChangeToWhatWeApplyIsDrift() {
    Deployment scaled = new DeploymentBuilder(APPLIED).editSpec().withReplicas(3).endSpec().editMetadata()
        .addToManagedFields(new ManagedFieldsEntryBuilder().withManager("kubectl").withOperation("Update")
            .withSubresource("scale").withTime("2026-12-01T10:05:00Z").build()).endMetadata().build();
    assertThat(DriftWatch.Change.of(APPLIED, scaled)).isEqualTo(DriftWatch.Change.DRIFT);
    Deployment relabelled = new DeploymentBuilder(APPLIED).editMetadata().addToLabels("team", "x").endMetadata().build();
    assertThat(DriftWatch.Change.of(APPLIED, relabelled)).isEqualTo(DriftWatch.Change.DRIFT);
  }

  @Test
  void ourOwnApplyStatusAndKubernetesBookkeepingAreNot() {
    Deployment ours = new DeploymentBuilder(APPLIED).editSpec().withReplicas(2).endSpec().editMetadata()
        .withManagedFields(new ManagedFieldsEntryBuilder().withManager("langconnect-gitops").withOperation("Apply")
            .withTime("2026-12-01T10:07:00Z").build()).endMetadata().build();
    assertThat(DriftWatch.Change.of(APPLIED, ours)).isEqualTo(DriftWatch.Change.NONE);
    Deployment rolledOut = new DeploymentBuilder(APPLIED).withNewStatus().withAvailableReplicas(1).endStatus()
        .editMetadata().withResourceVersion("42").withGeneration(2L)
        .addToAnnotations("deployment.kubernetes.io/revision", "2").endMetadata().build();
    assertThat(DriftWatch.Change.of(APPLIED, rolledOut)).isEqualTo(DriftWatch.Change.STATUS);
  }

  @Test
  void ourSecondApplyWithinTheSameSecondIsNotDrift() {
    // managedFields' time has whole seconds: two commits applied within one second share it; the revision does not.
    Deployment again = new DeploymentBuilder(APPLIED).editSpec().withReplicas(4).endSpec().editMetadata()
        .addToAnnotations("langconnect-gitops.io/revision", "def").endMetadata().build();
    assertThat(DriftWatch.Change.of(APPLIED, again)).isEqualTo(DriftWatch.Change.NONE);
    assertThat(DriftWatch.Change.ofJson(APPLIED, again)).isEqualTo(DriftWatch.Change.NONE);
  }

  @Test
  void aStatusThatMovedAsksForHealthButABookkeepingChangeDoesNot() {
    Deployment available = new DeploymentBuilder(APPLIED).withNewStatus().withAvailableReplicas(1).endStatus().build();
    Deployment unavailable = new DeploymentBuilder(available).editStatus().withAvailableReplicas(0)
        .withUnavailableReplicas(1).endStatus().build();
    assertThat(DriftWatch.Change.of(available, unavailable)).isEqualTo(DriftWatch.Change.STATUS);
    Deployment touched = new DeploymentBuilder(available).editMetadata().withResourceVersion("43").endMetadata().build();
    assertThat(DriftWatch.Change.of(available, touched)).isEqualTo(DriftWatch.Change.NONE);
    Deployment relisted = new DeploymentBuilder(touched).editStatus().withAvailableReplicas(0).endStatus().build();
    assertThat(DriftWatch.Change.of(touched, relisted)).as("the same resourceVersion is the same object")
        .isEqualTo(DriftWatch.Change.NONE);
  }

  @Test
  void theModelComparisonAgreesWithTheJsonOne() {
    Deployment scaled = new DeploymentBuilder(APPLIED).editSpec().withReplicas(3).endSpec().build();
    Deployment relabelled = new DeploymentBuilder(APPLIED).editMetadata().addToLabels("team", "x").endMetadata().build();
    Deployment annotated = new DeploymentBuilder(APPLIED).editMetadata()
        .addToAnnotations("deployment.kubernetes.io/revision", "3").withResourceVersion("7").endMetadata().build();
    Deployment ours = new DeploymentBuilder(APPLIED).editSpec().withReplicas(2).endSpec().editMetadata()
        .withManagedFields(new ManagedFieldsEntryBuilder().withManager("langconnect-gitops").withOperation("Apply")
            .withTime("2026-12-01T10:07:00Z").build()).endMetadata().build();
    Deployment unavailable = new DeploymentBuilder(APPLIED).withNewStatus().withUnavailableReplicas(1).endStatus().build();
    for (Deployment after : java.util.List.of(scaled, relabelled, annotated, ours, unavailable)) {
      assertThat(DriftWatch.Change.of(APPLIED, after)).isEqualTo(DriftWatch.Change.ofJson(APPLIED, after));
    }
  }
}
