package io.langconnect.gitops.observe;

import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * What a backup CronJob and the Jobs it owns say about an environment's backups. Pure: built from the objects
 * as the API server returns them, where every status field may still be absent.
 */
record BackupHistory(Instant created, Optional<Instant> lastSuccess, Optional<Instant> lastSchedule, boolean suspended,
                     boolean lastJobFailed, long failedJobs) {

  /** A finished Job: when it finished and whether it failed. */
  private record Finished(Instant at, boolean failed) {}

  static BackupHistory of(CronJob cron, List<Job> jobs) {
    var status = cron.getStatus();
    Optional<Instant> recorded = Optional.ofNullable(status == null ? null : status.getLastSuccessfulTime()).map(Instant::parse);
    List<Finished> finished = jobs.stream().map(BackupHistory::finished).flatMap(Optional::stream)
        .sorted(Comparator.comparing(Finished::at)).toList();
    // The CronJob controller records successes of the Jobs it runs; a Job made by `backup` counts as soon as it completes.
    Optional<Instant> newestSucceeded = finished.stream().filter(f -> !f.failed()).map(Finished::at).reduce((a, b) -> b);
    Optional<Instant> lastSuccess = latest(recorded, newestSucceeded);
    return new BackupHistory(
        Instant.parse(cron.getMetadata().getCreationTimestamp()),
        lastSuccess,
        Optional.ofNullable(status == null ? null : status.getLastScheduleTime()).map(Instant::parse),
        Boolean.TRUE.equals(cron.getSpec().getSuspend()),
        !finished.isEmpty() && finished.get(finished.size() - 1).failed(),
        finished.stream().filter(Finished::failed).count());
  }

  /** The age of the backups counts from the last success or, while there is none, from the CronJob's creation. */
  Instant agedFrom() {
    return lastSuccess.orElse(created);
  }

  private static Optional<Finished> finished(Job job) {
    if (job.getStatus() == null || job.getStatus().getConditions() == null) return Optional.empty();
    for (JobCondition condition : job.getStatus().getConditions()) {
      if (!"True".equals(condition.getStatus())) continue;
      boolean failed = "Failed".equals(condition.getType());
      if (!failed && !"Complete".equals(condition.getType())) continue;
      String at = Optional.ofNullable(job.getStatus().getCompletionTime()).filter(t -> !failed)
          .orElse(condition.getLastTransitionTime());
      if (at == null) at = job.getMetadata().getCreationTimestamp();
      return Optional.of(new Finished(Instant.parse(at), failed));
    }
    return Optional.empty();
  }

  private static Optional<Instant> latest(Optional<Instant> a, Optional<Instant> b) {
    if (a.isEmpty()) return b;
    if (b.isEmpty()) return a;
    return Optional.of(a.get().isAfter(b.get()) ? a.get() : b.get());
  }
}
