package io.langconnect.gitops.bench;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.langconnect.gitops.apply.DriftWatch;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.values.ValuesFixture;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * What one watch event of a managed Deployment costs the drift handler: the status update the cluster makes all
 * the time (a replica becoming unavailable), compared by the model's equals and by JSON. Prints medians of 7 rounds.
 *   mvn -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.langconnect.gitops.bench.DriftWatchBenchmark
 */
public final class DriftWatchBenchmark {

  public static void main(String[] args) {
    Deployment applied = (Deployment) StackRenderer.render(ValuesFixture.folder().env("dev", ValuesFixture.MINIMAL)
        .valid("dev"), Optional.of("abc")).stream().filter(o -> o.getKind().equals("Deployment")).findFirst().orElseThrow();
    Deployment before = new DeploymentBuilder(applied).editMetadata().withResourceVersion("1")
        .addToManagedFields(new ManagedFieldsEntryBuilder().withManager("langconnect-gitops").withOperation("Apply")
            .withTime("2026-12-01T10:00:00Z").build()).endMetadata()
        .withNewStatus().withReplicas(1).withAvailableReplicas(1).withObservedGeneration(1L).endStatus().build();
    Deployment after = new DeploymentBuilder(before).editMetadata().withResourceVersion("2").endMetadata()
        .editStatus().withAvailableReplicas(0).withUnavailableReplicas(1).endStatus().build();
    int n = 20_000;
    List<Long> model = new ArrayList<>();
    List<Long> json = new ArrayList<>();
    for (int round = 0; round < 7; round++) {
      model.add(nanosPerEvent(n, () -> DriftWatch.Change.of(before, after)));
      json.add(nanosPerEvent(n, () -> DriftWatch.Change.ofJson(before, after)));
    }
    Collections.sort(model);
    Collections.sort(json);
    long m = model.get(3);
    long j = json.get(3);
    System.out.printf("one Deployment status update: model %d ns, JSON %d ns per event (median of 7 rounds of %d);"
        + " ratio %.1fx%n", m, j, n, (double) j / m);
  }

  private static long nanosPerEvent(int n, Runnable event) {
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) event.run();
    return (System.nanoTime() - start) / n;
  }

  private DriftWatchBenchmark() {}
}
