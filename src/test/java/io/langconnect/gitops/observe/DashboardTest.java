package io.langconnect.gitops.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.langconnect.gitops.apply.ObjectRef;
import io.langconnect.gitops.apply.SyncResult;
import io.langconnect.gitops.status.EnvironmentStatus;
import io.langconnect.gitops.status.SyncMetrics;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every metric the dashboard and the alert rules use is one the controller exports, so no panel is empty by a typo. */
class DashboardTest {

  private static final Pattern METRIC = Pattern.compile("\\blangconnect_[a-z_]+");

  /** The names /metrics shows once every meter has a value. */
  static Set<String> exportedNames() throws IllegalAccessException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MetricsExposition exposition = new MetricsExposition(registry);
    ObserverMetrics observer = new ObserverMetrics(exposition);
    for (Field field : ObserverMetrics.class.getDeclaredFields()) {
      if (field.getType() == GaugeTable.class) {
        ((GaugeTable) field.get(observer)).set("e", List.of(new GaugeTable.Row(Tags.of("environment", "e"), 1)));
      }
    }
    observer.query(new DatabaseTarget("e", "ns", "r", "h", 5432, "d", "u", java.util.Optional.empty(), "disable", java.util.Optional.empty(), "http://h"),
        "probe", Duration.ofMillis(1), false);
    SyncMetrics sync = new SyncMetrics(registry);
    sync.syncFinished("e", EnvironmentStatus.Result.SYNCED, Duration.ofMillis(5));
    sync.environmentState("e", true, false);
    ObjectRef ref = new ObjectRef("v1", "Service", "ns", "s");
    sync.objects("e", new SyncResult(List.of(new SyncResult.ObjectResult(ref, SyncResult.Action.CONFIGURED, List.of(".spec")),
        new SyncResult.ObjectResult(ref, SyncResult.Action.PRUNED, List.of())), null));
    sync.gitFetch(true, Duration.ofMillis(1));
    sync.gitPoll("unchanged", Duration.ofMillis(1));
    sync.webhook("github", "queued");
    sync.webhookToSync("e", Duration.ofMillis(100));
    return scrape(exposition).lines().filter(l -> l.startsWith("langconnect_"))
        .map(l -> l.replaceAll("[{ ].*", "").replaceAll("_(bucket|count|sum|max)$", ""))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static Set<String> used(Path file) throws IOException {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(Files.readString(file));
    while (m.find()) names.add(m.group().replaceAll("_(bucket|count|sum)$", ""));
    return names;
  }

  @Test
  void dashboardUsesOnlyExportedMetrics() throws Exception {
    Set<String> used = used(Path.of("dashboards/langconnect.json"));
    assertThat(used).hasSizeGreaterThan(20);
    assertThat(exportedNames()).containsAll(used);
  }

  @Test
  void alertRulesUseOnlyExportedMetrics() throws Exception {
    Set<String> used = used(Path.of("manifests/alerts.yaml"));
    assertThat(used).isNotEmpty();
    assertThat(exportedNames()).containsAll(used);
  }

  /** What a scrape of /metrics serves. */
  private static String scrape(MetricsExposition metrics) {
    return metrics.scrape().toString(java.nio.charset.StandardCharsets.UTF_8);
  }
}
