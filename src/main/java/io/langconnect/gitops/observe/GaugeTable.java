package io.langconnect.gitops.observe;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One gauge metric whose series come and go (tables, indexes, collections), kept per environment: each
 * environment replaces its own rows, and a series that is no longer reported disappears from /metrics.
 */
final class GaugeTable {

  record Row(Tags tags, double value) {}

  private final MultiGauge gauge;
  private final Map<String, List<Row>> byEnvironment = new ConcurrentHashMap<>();

  GaugeTable(MeterRegistry registry, String name, String description, String baseUnit) {
    this.gauge = MultiGauge.builder(name).description(description).baseUnit(baseUnit).register(registry);
  }

  synchronized void set(String environment, List<Row> rows) {
    byEnvironment.put(environment, List.copyOf(rows));
    publish();
  }

  synchronized void remove(String environment) {
    if (byEnvironment.remove(environment) != null) publish();
  }

  private void publish() {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    byEnvironment.values().forEach(list -> list.forEach(r -> rows.add(MultiGauge.Row.of(r.tags(), r.value()))));
    gauge.register(rows, true);
  }
}
