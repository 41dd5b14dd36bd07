package io.langconnect.gitops.sync;

import org.slf4j.MDC;

/**
 * The environment, cluster and revision a sync works on, on every line it logs meanwhile (JSON logs carry them as
 * fields); removed again when the sync ends, since worker threads serve every environment in turn.
 */
final class LogContext implements AutoCloseable {

  static final String ENVIRONMENT = "environment";
  static final String CLUSTER = "cluster";
  static final String REVISION = "revision";

  private LogContext() {}

  static LogContext of(String environment, String cluster, String revision) {
    MDC.put(ENVIRONMENT, environment);
    if (!cluster.isEmpty()) MDC.put(CLUSTER, cluster);
    MDC.put(REVISION, revision);
    return new LogContext();
  }

  @Override
  public void close() {
    MDC.remove(ENVIRONMENT);
    MDC.remove(CLUSTER);
    MDC.remove(REVISION);
  }
}
