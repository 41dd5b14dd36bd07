package io.langconnect.gitops.observe;

import io.langconnect.gitops.apply.WorkloadCache;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.langconnect.gitops.apply.Workloads;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.langconnect.gitops.render.Labels;
import io.micrometer.core.instrument.Tags;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Replicas, container restarts and backup health of each observed release, read from the {@link WorkloadCache}:
 * a collection asks the API server nothing and never waits on it.
 */
final class WorkloadCollector {

  private final WorkloadCache cache;
  private final ObserverMetrics metrics;

  WorkloadCollector(WorkloadCache cache, ObserverMetrics metrics) {
    this.cache = cache;
    this.metrics = metrics;
  }

  void collect(DatabaseTarget target) {
    if (!cache.synced()) return; // an empty cache would export "0 replicas" for a running stack
    Tags tags = Tags.of("environment", target.environment(), "namespace", target.namespace());
    List<GaugeTable.Row> replicas = new ArrayList<>();
    List<GaugeTable.Row> restarts = new ArrayList<>();
    List<Pod> pods = cache.pods(target.namespace());
    for (HasMetadata workload : cache.workloads(target.namespace(), target.release())) {
      Tags c = tags.and("component", workload.getMetadata().getLabels().get(Labels.COMPONENT));
      replicas.add(new GaugeTable.Row(c.and("state", "desired"), Workloads.replicas(workload)));
      replicas.add(new GaugeTable.Row(c.and("state", "ready"), Workloads.readyReplicas(workload)));
      replicas.add(new GaugeTable.Row(c.and("state", "available"), Workloads.availableReplicas(workload)));
      Map<String, String> selector = Workloads.selector(workload);
      int restartCount = pods.stream().filter(pod -> selects(selector, pod))
          .filter(pod -> pod.getStatus() != null && pod.getStatus().getContainerStatuses() != null)
          .mapToInt(pod -> pod.getStatus().getContainerStatuses().stream().mapToInt(ContainerStatus::getRestartCount).sum())
          .sum();
      restarts.add(new GaugeTable.Row(c, restartCount));
    }
    metrics.replicas.set(target.key(), replicas);
    metrics.restarts.set(target.key(), restarts);
    backups(target, tags);
  }

  private static boolean selects(Map<String, String> selector, Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return labels != null && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  /**
   * Backup health from the CronJob and the Jobs it owns; nothing here reads the backups volume. Every series
   * exists from the CronJob's creation on: a backup that never succeeded ages from then, so it pages too.
   */
  private void backups(DatabaseTarget target, Tags tags) {
    List<GaugeTable.Row> success = new ArrayList<>();
    List<GaugeTable.Row> schedule = new ArrayList<>();
    List<GaugeTable.Row> age = new ArrayList<>();
    List<GaugeTable.Row> created = new ArrayList<>();
    List<GaugeTable.Row> suspended = new ArrayList<>();
    List<GaugeTable.Row> lastFailed = new ArrayList<>();
    List<GaugeTable.Row> failed = new ArrayList<>();
    List<GaugeTable.Row> uploadSize = new ArrayList<>();
    List<GaugeTable.Row> storeNewest = new ArrayList<>();
    List<GaugeTable.Row> storeAge = new ArrayList<>();
    List<Job> jobs = cache.backupJobs(target.namespace(), target.release());
    List<Pod> pods = cache.pods(target.namespace());
    for (CronJob cron : cache.backupCronJobs(target.namespace(), target.release())) {
      BackupHistory history = BackupHistory.of(cron, jobs.stream().filter(job -> ownedBy(job, cron)).toList());
      long now = Instant.now().getEpochSecond();
      history.lastSuccess().ifPresent(at -> success.add(new GaugeTable.Row(tags, at.getEpochSecond())));
      history.lastSchedule().ifPresent(at -> schedule.add(new GaugeTable.Row(tags, at.getEpochSecond())));
      age.add(new GaugeTable.Row(tags, now - history.agedFrom().getEpochSecond()));
      created.add(new GaugeTable.Row(tags, history.created().getEpochSecond()));
      suspended.add(new GaugeTable.Row(tags, history.suspended() ? 1 : 0));
      lastFailed.add(new GaugeTable.Row(tags, history.lastJobFailed() ? 1 : 0));
      failed.add(new GaugeTable.Row(tags, history.failedJobs()));
      if (uploads(cron)) {
        Optional<BackupUpload> upload = BackupUpload.newest(jobs.stream().filter(job -> ownedBy(job, cron)).toList(), pods);
        upload.ifPresent(u -> {
          uploadSize.add(new GaugeTable.Row(tags, u.bytes()));
          storeNewest.add(new GaugeTable.Row(tags, u.taken().getEpochSecond()));
        });
        storeAge.add(new GaugeTable.Row(tags, now - upload.map(BackupUpload::taken).orElse(history.created()).getEpochSecond()));
      }
    }
    metrics.backupLastSuccess.set(target.key(), success);
    metrics.backupLastSchedule.set(target.key(), schedule);
    metrics.backupAge.set(target.key(), age);
    metrics.backupCreated.set(target.key(), created);
    metrics.backupSuspended.set(target.key(), suspended);
    metrics.backupLastJobFailed.set(target.key(), lastFailed);
    metrics.backupFailedJobs.set(target.key(), failed);
    metrics.backupUploadSize.set(target.key(), uploadSize);
    metrics.backupObjectStoreNewest.set(target.key(), storeNewest);
    metrics.backupObjectStoreAge.set(target.key(), storeAge);
  }

  /** Whether the CronJob's backups go to an object store: its pods have an uploader. */
  private static boolean uploads(CronJob cron) {
    return cron.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getContainers().stream()
        .anyMatch(c -> BackupUpload.CONTAINER.equals(c.getName()));
  }

  /** Backup Jobs are the CronJob's own (scheduled, or made by {@code backup} from it); a restore Job is not one. */
  private static boolean ownedBy(Job job, CronJob cron) {
    return job.getMetadata().getOwnerReferences() != null && job.getMetadata().getOwnerReferences().stream()
        .anyMatch(owner -> owner.getUid() != null && owner.getUid().equals(cron.getMetadata().getUid()));
  }
}
