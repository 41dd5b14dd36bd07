package io.langconnect.gitops.observe;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What {@code GET /metrics} serves: the registry's meters (syncs, webhooks, git, collector queries) followed by
 * the collector's gauge tables. Writers only say that something changed; the text is rendered when a scrape asks
 * and something changed since the last one (or that one is a minute old, for meters whose value moves by itself,
 * such as a timer's decaying maximum), else the last text is served as it is. So the cost follows the scrapes, not
 * the changes: a first sync of hundreds of environments changes metrics hundreds of times a second.
 */
public final class MetricsExposition {

  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  private final List<GaugeTable> tables = new CopyOnWriteArrayList<>();
  private static final long FULL_RENDER_NANOS = java.time.Duration.ofMinutes(1).toNanos();

  private final AtomicBoolean changed = new AtomicBoolean(true);
  private Buffer ready;
  private long renderedAt;

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

  /** The text, rendered first if something changed since the last scrape or it is a minute old. Blocking. */
  public synchronized Buffer scrape() {
    long now = System.nanoTime();
    if (changed.getAndSet(false) || ready == null || now - renderedAt > FULL_RENDER_NANOS) {
      ready = render();
      renderedAt = now;
    }
    return ready;
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
