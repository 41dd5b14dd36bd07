package io.langconnect.gitops.observe;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The newest dump a backup Job uploaded to the object store, as its uploader container said in its termination
 * message ({@code uploaded FILE BYTES}): the collector reads the bucket through the Jobs, never with credentials of
 * its own. Pure.
 */
record BackupUpload(String file, long bytes, Instant taken) {

  static final String CONTAINER = "upload";
  private static final Pattern MESSAGE = Pattern.compile("uploaded (\\S+-(\\d{8}T\\d{6}Z)\\.dump) (\\d+)\\s*");
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

  /** The newest upload among {@code jobs} (the CronJob's own), read from their pods. */
  static Optional<BackupUpload> newest(List<Job> jobs, List<Pod> pods) {
    return jobs.stream()
        .flatMap(job -> pods.stream().filter(pod -> job.getMetadata().getName().equals(jobName(pod))))
        .map(BackupUpload::of).flatMap(Optional::stream)
        .max(Comparator.comparing(BackupUpload::taken));
  }

  static Optional<BackupUpload> of(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) return Optional.empty();
    return pod.getStatus().getContainerStatuses().stream()
        .filter(s -> CONTAINER.equals(s.getName()) && s.getState() != null && s.getState().getTerminated() != null
            && Integer.valueOf(0).equals(s.getState().getTerminated().getExitCode()))
        .map(s -> s.getState().getTerminated().getMessage()).filter(m -> m != null)
        .map(MESSAGE::matcher).filter(Matcher::matches)
        .map(m -> new BackupUpload(m.group(1), Long.parseLong(m.group(3)),
            LocalDateTime.parse(m.group(2), STAMP).toInstant(ZoneOffset.UTC)))
        .findFirst();
  }

  private static String jobName(Pod pod) {
    return pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get("batch.kubernetes.io/job-name");
  }
}
