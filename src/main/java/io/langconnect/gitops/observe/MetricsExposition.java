package io.langconnect.gitops.observe;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What {@code GET /metrics} serves: the meters of the registry (syncs, webhooks, git), then the collector's
 * gauge tables, whose text is kept ready between changes. So a scrape costs little more than copying bytes,
 * however many databases, tables and collections are observed.
 */
public final class MetricsExposition {

  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  private final List<GaugeTable> tables = new CopyOnWriteArrayList<>();

  public MetricsExposition(PrometheusMeterRegistry registry) {
    this.registry = registry;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  void add(GaugeTable table) {
    tables.add(table);
  }

  void removeAll(List<GaugeTable> gone) {
    tables.removeAll(gone);
  }

  public Buffer scrape() {
    Buffer body = Buffer.buffer(registry.scrape());
    for (GaugeTable table : tables) body.appendBytes(table.text());
    return body;
  }

  public String scrapeText() {
    return scrape().toString(StandardCharsets.UTF_8);
  }
}
