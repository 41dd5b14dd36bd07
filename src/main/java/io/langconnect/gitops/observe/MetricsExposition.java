package io.langconnect.gitops.observe;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What {@code GET /metrics} serves, kept ready: the registry's meters (syncs, webhooks, git, collector queries)
 * followed by the collector's gauge tables. Writers say when something changed; the text is rendered again off
 * the request path (see {@link #refresh}), so a scrape only copies bytes, however many environments, tables and
 * collections there are. A scrape may trail a change by one refresh period.
 */
public final class MetricsExposition {

  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  private final List<GaugeTable> tables = new CopyOnWriteArrayList<>();
  private final AtomicBoolean changed = new AtomicBoolean(true);
  private volatile Buffer ready;

  public MetricsExposition(PrometheusMeterRegistry registry) {
    this.registry = registry;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Something a scrape shows has changed. Cheap: call it on every write. */
  public void changed() {
    changed.set(true);
  }

  /**
   * Renders the text again if something changed since the last time, or when {@code force} (meters whose value
   * moves by itself, such as a timer's decaying maximum). Blocking: call from a worker, one call at a time.
   */
  public void refresh(boolean force) {
    if (changed.getAndSet(false) || force || ready == null) ready = render();
  }

  /** The text as last rendered (rendered now if it never was). */
  public Buffer scrape() {
    Buffer text = ready;
    if (text == null) {
      refresh(true);
      text = ready;
    }
    return text;
  }

  void add(GaugeTable table) {
    tables.add(table);
    changed();
  }

  void removeAll(List<GaugeTable> gone) {
    tables.removeAll(gone);
    changed();
  }

  private Buffer render() {
    Buffer body = Buffer.buffer(registry.scrape().getBytes(StandardCharsets.UTF_8));
    for (GaugeTable table : tables) body.appendBytes(table.text());
    return body;
  }
}
