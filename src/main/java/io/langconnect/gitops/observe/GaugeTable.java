package io.langconnect.gitops.observe;

import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One gauge family whose series come and go (tables, indexes, collections), kept per environment: each
 * environment replaces its own rows, and a series no longer reported disappears. Its Prometheus text is
 * rendered once per change, not once per scrape: the collector changes it every cycle, Prometheus reads it
 * far more often (and a scrape never sees half of an update).
 */
final class GaugeTable {

  record Row(Tags tags, double value) {}

  private static final PrometheusTextFormatWriter WRITER = PrometheusTextFormatWriter.create();

  private final MetricMetadata metadata;
  private final Runnable changed;
  private final Map<String, List<GaugeDataPointSnapshot>> byEnvironment = new HashMap<>();
  private byte[] text = new byte[0];
  private boolean stale;

  /** {@code name} as Micrometer spells it ({@code langconnect.database.size}); the unit is appended as a suffix. */
  GaugeTable(String name, String help, String baseUnit, Runnable changed) {
    this.changed = changed;
    String prometheusName = name.replace('.', '_') + (baseUnit == null ? "" : "_" + baseUnit);
    this.metadata = new MetricMetadata(prometheusName, help);
  }

  String name() {
    return metadata.getPrometheusName();
  }

  /** Replaces the environment's rows; of two rows with the same labels the last one counts. */
  synchronized void set(String environment, List<Row> rows) {
    Map<Labels, GaugeDataPointSnapshot> points = new LinkedHashMap<>();
    for (Row row : rows) {
      Labels labels = labels(row.tags());
      points.put(labels, new GaugeDataPointSnapshot(row.value(), labels, null));
    }
    byEnvironment.put(environment, List.copyOf(points.values()));
    stale = true;
    changed.run();
  }

  synchronized void remove(String environment) {
    if (byEnvironment.remove(environment) != null) {
      stale = true;
      changed.run();
    }
  }

  /** This family in the Prometheus text format (empty when it has no series). */
  synchronized byte[] text() {
    if (stale) {
      List<GaugeDataPointSnapshot> all = new ArrayList<>();
      byEnvironment.values().forEach(all::addAll);
      text = all.isEmpty() ? new byte[0] : render(new GaugeSnapshot(metadata, all));
      stale = false;
    }
    return text;
  }

  private static byte[] render(GaugeSnapshot snapshot) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + 128 * snapshot.getDataPoints().size());
    try {
      WRITER.write(out, MetricSnapshots.of(snapshot));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return out.toByteArray();
  }

  private static Labels labels(Tags tags) {
    List<String> names = new ArrayList<>();
    List<String> values = new ArrayList<>();
    for (Tag tag : tags) {
      names.add(tag.getKey());
      values.add(tag.getValue());
    }
    return Labels.of(names, values);
  }
}
