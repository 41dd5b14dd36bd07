package io.langconnect.gitops.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import io.langconnect.gitops.testenv.LocalControlPlane;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * charts/langconnect-gitops against Helm itself (built from its Go module by test-env.sh): it lints, and with its
 * defaults renders what manifests/ holds, object for object, but for the differences named here.
 */
@ExtendWith(LocalControlPlane.class)
class ChartIT {

  private static final Path CHART = Path.of("charts/langconnect-gitops");
  /** Helm's own labels, on every object of the chart and none of manifests/. */
  private static final List<String> HELM_LABELS = List.of("helm.sh/chart", "app.kubernetes.io/instance",
      "app.kubernetes.io/managed-by", "app.kubernetes.io/version");

  @Test
  void theChartLintsClean(LocalControlPlane plane) throws Exception {
    Result lint = helm(plane, "lint", "--strict", CHART.toString());
    assertThat(lint.exit()).as(lint.output()).isZero();
    assertThat(lint.output()).contains("1 chart(s) linted, 0 chart(s) failed");
  }

  @Test
  void itsDefaultsRenderManifestsObjectForObject(LocalControlPlane plane) throws Exception {
    Map<String, Map<String, Object>> chart = byKindAndName(template(plane));
    Map<String, Map<String, Object>> manifests = new TreeMap<>();
    for (String file : List.of("serviceaccount.yaml", "rbac.yaml", "admission.yaml", "configmap.yaml", "deployment.yaml",
        "service.yaml", "poddisruptionbudget.yaml", "servicemonitor.yaml", "alerts.yaml", "namespace.yaml")) {
      manifests.putAll(byKindAndName(Files.readString(Path.of("manifests", file))));
    }
    // The one difference in objects: Helm installs into a namespace (--create-namespace, or one you made), so the
    // chart holds no Namespace; manifests/namespace.yaml adds Pod Security's restricted label to its own.
    assertThat(manifests.remove("Namespace/langconnect-gitops")).isNotNull();
    assertThat(chart.keySet()).containsExactlyInAnyOrderElementsOf(manifests.keySet());
    for (var entry : manifests.entrySet()) {
      assertThat(comparable(chart.get(entry.getKey()))).as(entry.getKey()).isEqualTo(comparable(entry.getValue()));
    }
  }

  @Test
  void itsValuesReachTheObjects(LocalControlPlane plane) throws Exception {
    Map<String, Map<String, Object>> objects = byKindAndName(template(plane, "--namespace", "gitops-prod",
        "--set", "replicas=3", "--set", "image.tag=0.2.0", "--set", "clusters.eu-prod.kubeconfigSecret=cluster-eu-prod",
        "--set", "apiToken.create=true", "--set", "apiToken.token=t0ken", "--set", "serviceMonitor.enabled=false",
        "--set", "extraEnv[0].name=JAVA_TOOL_OPTIONS", "--set", "extraEnv[0].value=-XX:+UseSerialGC"));
    Map<String, Object> deployment = objects.get("Deployment/langconnect-gitops");
    assertThat(at(deployment, "spec", "replicas")).isEqualTo(3);
    assertThat(String.valueOf(at(deployment, "spec", "template", "spec", "containers")))
        .as("extraEnv beside the chart's own variables").contains("POD_IP").contains("{name=JAVA_TOOL_OPTIONS, value=-XX:+UseSerialGC}");
    assertThat(objects).containsKey("Secret/langconnect-gitops-api").doesNotContainKey("ServiceMonitor/langconnect-gitops");
    Map<String, Object> config = new Load(LoadSettings.builder().build()).loadFromString(
        (String) at(objects.get("ConfigMap/langconnect-gitops"), "data", "controller.yaml")) instanceof Map<?, ?> m
        ? cast(m) : Map.of();
    assertThat(at(config, "kubernetes", "stateNamespace")).isEqualTo("gitops-prod");
    assertThat(at(config, "clusters", "eu-prod", "kubeconfigSecret")).isEqualTo("cluster-eu-prod");
    assertThat(String.valueOf(at(objects.get("ValidatingAdmissionPolicy/langconnect-gitops-managed-namespaces"), "spec")))
        .contains("system:serviceaccount:gitops-prod:langconnect-gitops").contains("'gitops-prod'");

    Result missing = helm(plane, "template", "langconnect-gitops", CHART.toString(), "--set", "apiToken.create=true");
    assertThat(missing.exit()).isNotZero();
    assertThat(missing.output()).contains("apiToken.token is required when apiToken.create is true");
  }

  /** An object without what is Helm's alone: its labels, the config's checksum, and controller.yaml as text. */
  private static Map<String, Object> comparable(Map<String, Object> object) {
    Map<String, Object> copy = deepCopy(object);
    if (at(copy, "metadata", "labels") instanceof Map<?, ?> labels) HELM_LABELS.forEach(labels::remove);
    if (at(copy, "spec", "template", "metadata", "annotations") instanceof Map<?, ?> annotations) {
      annotations.remove("checksum/config");
      if (annotations.isEmpty()) cast(cast(at(copy, "spec", "template")).get("metadata")).remove("annotations");
    }
    if (at(copy, "data", "controller.yaml") instanceof String text) {
      cast(copy.get("data")).put("controller.yaml", new Load(LoadSettings.builder().build()).loadFromString(text));
    }
    return copy;
  }

  private static Map<String, Map<String, Object>> byKindAndName(String yaml) {
    Map<String, Map<String, Object>> objects = new TreeMap<>();
    for (Object document : new Load(LoadSettings.builder().build()).loadAllFromString(yaml)) {
      if (document instanceof Map<?, ?> map) objects.put(map.get("kind") + "/" + at(cast(map), "metadata", "name"), cast(map));
    }
    return objects;
  }

  private static Object at(Map<String, Object> map, String... path) {
    Object here = map;
    for (String key : path) {
      if (!(here instanceof Map<?, ?> m)) return null;
      here = m.get(key);
    }
    return here;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Object map) {
    return (Map<String, Object>) map;
  }

  @SuppressWarnings("unchecked")
  private static <T> T deepCopy(T value) {
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> copy = new LinkedHashMap<>();
      map.forEach((k, v) -> copy.put(k, deepCopy(v)));
      return (T) copy;
    }
    if (value instanceof List<?> list) return (T) new ArrayList<>(list.stream().map(ChartIT::deepCopy).toList());
    return value;
  }

  private static String template(LocalControlPlane plane, String... more) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("template", "langconnect-gitops", CHART.toString()));
    if (more.length == 0) args.addAll(List.of("--namespace", "langconnect-gitops"));
    args.addAll(List.of(more));
    Result result = helm(plane, args.toArray(String[]::new));
    assertThat(result.exit()).as(result.output()).isZero();
    return result.output();
  }

  record Result(int exit, String output) {}

  static Result helm(LocalControlPlane plane, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(plane.setting("HELM")));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(process.waitFor(), output);
  }
}
