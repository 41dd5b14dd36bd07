package io.langconnect.gitops.apply;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import io.langconnect.gitops.render.Labels;

/**
 * Whether what was applied actually runs, read the way kstatus and Argo CD's health checks read it: a Deployment or
 * StatefulSet is ready once it rolled out its current generation, stuck pods and a failed rollout say why they are stuck. Pure: it
 * looks only at the objects it is given.
 */
public record Health(State state, String message) {

  public enum State { READY, PROGRESSING, DEGRADED, UNKNOWN }

  public static final Health UNKNOWN = new Health(State.UNKNOWN, "not assessed yet");

  /** Container waiting reasons that do not heal by waiting. */
  private static final Set<String> STUCK = Set.of("ImagePullBackOff", "ErrImagePull", "InvalidImageName",
      "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError");
  /** How long a claim may stay unbound before it is reported as the reason nothing starts. */
  static final Duration CLAIM_GRACE = Duration.ofMinutes(10);

  /** The live objects of one environment that say whether it runs; workloads are Deployments and StatefulSets. */
  public record Observed(List<? extends HasMetadata> workloads, List<Pod> pods, List<PersistentVolumeClaim> claims,
                         List<Job> backupJobs) {}

  public boolean ready() {
    return state == State.READY;
  }

  /**
   * Whether a pod cannot start for want of one of {@code applied}'s Secrets (the kubelet's words: secret "x" not
   * found): someone deleted a Secret the controller applies. Secrets are not watched (that would need the right to
   * list every Secret of the cluster), so this is when such a deletion is seen before the next full re-check.
   */
  public boolean missesOneOf(java.util.Collection<ObjectRef> applied) {
    return state == State.DEGRADED && applied.stream().filter(ref -> ref.kind().equals("Secret"))
        .anyMatch(ref -> message.contains("secret \"" + ref.name() + "\" not found"));
  }

  public static Health assess(Observed observed, Instant now) {
    List<String> degraded = new ArrayList<>();
    List<String> progressing = new ArrayList<>();
    for (HasMetadata workload : observed.workloads()) {
      String name = workload.getKind() + " " + workload.getMetadata().getName();
      for (Pod pod : podsOf(Workloads.selector(workload), observed.pods())) {
        stuck(pod).ifPresent(reason -> degraded.add(name + ": " + reason));
        databaseUnanswered(pod, now).ifPresent(down -> (down.lasting() ? degraded : progressing).add(name + ": " + down.reason()));
      }
      if (workload instanceof Deployment deployment) {
        deadlineExceeded(deployment).ifPresent(reason -> degraded.add(name + ": " + reason));
      }
      (workload instanceof io.fabric8.kubernetes.api.model.GenericKubernetesResource cluster ? clusterHealth(cluster)
          : rollout(workload)).ifPresent(reason -> progressing.add(name + ": " + reason));
    }
    // A claim counts only once a pod mounts it: the backups claim binds at its first Job (WaitForFirstConsumer),
    // which may be a day away, and is no reason for the environment not to be Ready until then.
    Set<String> mounted = new HashSet<>();
    observed.pods().forEach(pod -> Optional.ofNullable(pod.getSpec()).map(spec -> spec.getVolumes()).orElse(List.of())
        .stream().filter(v -> v.getPersistentVolumeClaim() != null)
        .forEach(v -> mounted.add(v.getPersistentVolumeClaim().getClaimName())));
    for (PersistentVolumeClaim claim : observed.claims()) {
      if (claim.getStatus() == null || "Bound".equals(claim.getStatus().getPhase())) continue;
      if (!mounted.contains(claim.getMetadata().getName())) continue;
      String what = "PersistentVolumeClaim " + claim.getMetadata().getName() + " is " + claim.getStatus().getPhase();
      Instant created = instant(claim.getMetadata().getCreationTimestamp());
      if (created != null && Duration.between(created, now).compareTo(CLAIM_GRACE) > 0) {
        degraded.add(what + " after " + CLAIM_GRACE.toMinutes() + "m (no volume could be provisioned for it)");
      } else {
        progressing.add(what);
      }
    }
    lastBackup(observed.backupJobs()).filter(Health::failed).ifPresent(job -> degraded.add("backup Job "
        + job.getMetadata().getName() + " failed" + condition(job, "Failed").map(c -> ": " + c.getReason()
        + (c.getMessage() == null ? "" : " (" + c.getMessage() + ")")).orElse("")));
    if (!degraded.isEmpty()) return new Health(State.DEGRADED, String.join("; ", degraded.stream().distinct().toList()));
    if (!progressing.isEmpty()) return new Health(State.PROGRESSING, String.join("; ", progressing));
    return new Health(State.READY, observed.workloads().size() + " workload(s) rolled out and available");
  }

  /** An external database that does not answer: for how long decides Progressing (a start) or Degraded. */
  record Unanswered(String reason, boolean lasting) {}

  /** How long an external database may not answer after its probe container started before it counts as down. */
  static final Duration DATABASE_GRACE = Duration.ofMinutes(1);

  /** The probe container beside LangConnect runs but is not ready: the external database does not answer pg_isready. */
  static Optional<Unanswered> databaseUnanswered(Pod pod, Instant now) {
    if (pod.getStatus() == null) return Optional.empty();
    return statuses(pod.getStatus().getContainerStatuses())
        .filter(s -> Labels.DATABASE_PROBE_CONTAINER.equals(s.getName()) && !Boolean.TRUE.equals(s.getReady())
            && s.getState() != null && s.getState().getRunning() != null)
        .findFirst()
        .map(s -> {
          Instant started = instant(s.getState().getRunning().getStartedAt());
          boolean lasting = started != null && Duration.between(started, now).compareTo(DATABASE_GRACE) > 0;
          return new Unanswered("pod " + pod.getMetadata().getName() + ": the external database does not answer"
              + " pg_isready (container " + s.getName() + " not ready)", lasting);
        });
  }

  /** Why a pod cannot get going by itself: the container's waiting reason, or why it cannot be scheduled. */
  static Optional<String> stuck(Pod pod) {
    String name = "pod " + pod.getMetadata().getName();
    if (pod.getStatus() == null) return Optional.empty();
    Optional<PodCondition> unscheduled = Optional.ofNullable(pod.getStatus().getConditions()).orElse(List.of()).stream()
        .filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())
            && "Unschedulable".equals(c.getReason())).findFirst();
    if (unscheduled.isPresent()) return Optional.of(name + " is Unschedulable: " + unscheduled.get().getMessage());
    return Stream.concat(statuses(pod.getStatus().getInitContainerStatuses()), statuses(pod.getStatus().getContainerStatuses()))
        .filter(s -> s.getState() != null && s.getState().getWaiting() != null
            && STUCK.contains(s.getState().getWaiting().getReason()))
        .findFirst()
        .map(s -> name + " container " + s.getName() + " is " + s.getState().getWaiting().getReason()
            + (s.getState().getWaiting().getMessage() == null ? "" : ": " + s.getState().getWaiting().getMessage()));
  }

  private static Stream<ContainerStatus> statuses(List<ContainerStatus> statuses) {
    return statuses == null ? Stream.empty() : statuses.stream();
  }

  private static Optional<String> deadlineExceeded(Deployment deployment) {
    if (deployment.getStatus() == null || deployment.getStatus().getConditions() == null) return Optional.empty();
    return deployment.getStatus().getConditions().stream()
        .filter(c -> "Progressing".equals(c.getType()) && "False".equals(c.getStatus())
            && "ProgressDeadlineExceeded".equals(c.getReason()))
        .findFirst().map(DeploymentCondition::getMessage);
  }

  /** CloudNativePG's words for a Cluster with every instance ready and nothing under way. */
  static final String CLUSTER_HEALTHY = "Cluster in healthy state";

  /**
   * Empty once a CloudNativePG Cluster is healthy as its operator reports it: the current generation observed, every
   * instance ready, its phase the healthy one; else what it says (a failover, a replica being made) and how many.
   */
  @SuppressWarnings("unchecked")
  public static Optional<String> clusterHealth(io.fabric8.kubernetes.api.model.GenericKubernetesResource cluster) {
    Map<String, Object> spec = (Map<String, Object>) cluster.getAdditionalProperties().getOrDefault("spec", Map.of());
    Map<String, Object> status = (Map<String, Object>) cluster.getAdditionalProperties().get("status");
    int wanted = spec.get("instances") instanceof Number n ? n.intValue() : 1;
    if (status == null) return Optional.of("0 of " + wanted + " instance(s) ready (the operator has not reported yet:"
        + " is CloudNativePG running?)");
    int ready = status.get("readyInstances") instanceof Number n ? n.intValue() : 0;
    String phase = String.valueOf(status.getOrDefault("phase", "no phase reported"));
    long generation = Optional.ofNullable(cluster.getMetadata().getGeneration()).orElse(0L);
    boolean observed = ((List<Map<String, Object>>) status.getOrDefault("conditions", List.of())).stream()
        .filter(c -> "Ready".equals(c.get("type")))
        .anyMatch(c -> "True".equals(c.get("status")) && (!(c.get("observedGeneration") instanceof Number g)
            || g.longValue() >= generation));
    if (ready >= wanted && CLUSTER_HEALTHY.equals(phase) && observed) return Optional.empty();
    return Optional.of(ready + " of " + wanted + " instance(s) ready (" + phase
        + (status.get("phaseReason") instanceof String reason && !reason.isEmpty() ? ": " + reason : "") + ")");
  }

  /** Empty once the current generation is rolled out: observed, every replica updated and available. */
  static Optional<String> rollout(HasMetadata workload) {
    Rollout r = Rollout.of(workload);
    long generation = Optional.ofNullable(workload.getMetadata().getGeneration()).orElse(0L);
    if (r.observedGeneration() == null || r.observedGeneration() < generation) {
      return Optional.of("generation " + generation + " not observed yet");
    }
    if (r.updated() < r.wanted()) return Optional.of(r.updated() + " of " + r.wanted() + " replica(s) updated");
    if (r.total() > r.updated()) return Optional.of((r.total() - r.updated()) + " old replica(s) still terminating");
    if (r.available() < r.wanted()) return Optional.of(r.available() + " of " + r.wanted() + " replica(s) available");
    return Optional.empty();
  }

  /** A workload's rollout counts, read alike from a Deployment's status and a StatefulSet's. */
  private record Rollout(Long observedGeneration, int wanted, int updated, int available, int total) {
    static Rollout of(HasMetadata workload) {
      if (workload instanceof StatefulSet set) {
        var status = set.getStatus();
        int wanted = Optional.ofNullable(set.getSpec().getReplicas()).orElse(1);
        if (status == null) return new Rollout(null, wanted, 0, 0, 0);
        // Until a rolling update ends, the pods of the old revision count as not updated.
        boolean current = status.getUpdateRevision() == null || status.getUpdateRevision().equals(status.getCurrentRevision());
        int updated = Optional.ofNullable(status.getUpdatedReplicas()).orElse(current ? count(status.getReplicas()) : 0);
        return new Rollout(status.getObservedGeneration(), wanted, updated, count(status.getAvailableReplicas()),
            count(status.getReplicas()));
      }
      Deployment deployment = (Deployment) workload;
      var status = deployment.getStatus();
      int wanted = Optional.ofNullable(deployment.getSpec().getReplicas()).orElse(1);
      if (status == null) return new Rollout(null, wanted, 0, 0, 0);
      return new Rollout(status.getObservedGeneration(), wanted, count(status.getUpdatedReplicas()),
          count(status.getAvailableReplicas()), count(status.getReplicas()));
    }

    private static int count(Integer value) {
      return value == null ? 0 : value;
    }
  }

  private static List<Pod> podsOf(Map<String, String> selector, List<Pod> pods) {
    if (selector.isEmpty()) return List.of();
    return pods.stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null && p.getMetadata().getLabels() != null
        && p.getMetadata().getLabels().entrySet().containsAll(selector.entrySet())).toList();
  }

  private static Optional<Job> lastBackup(List<Job> jobs) {
    return jobs.stream().filter(j -> instant(j.getMetadata().getCreationTimestamp()) != null)
        .max(Comparator.comparing((Job j) -> instant(j.getMetadata().getCreationTimestamp())));
  }

  private static boolean failed(Job job) {
    return condition(job, "Failed").isPresent();
  }

  private static Optional<JobCondition> condition(Job job, String type) {
    if (job.getStatus() == null || job.getStatus().getConditions() == null) return Optional.empty();
    return job.getStatus().getConditions().stream().filter(c -> type.equals(c.getType()) && "True".equals(c.getStatus()))
        .findFirst();
  }

  private static Instant instant(String timestamp) {
    return timestamp == null ? null : Instant.parse(timestamp);
  }

  @Override
  public String toString() {
    return state + ": " + Objects.toString(message, "");
  }
}
