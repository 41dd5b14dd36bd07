package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpecBuilder;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The LangConnect half of the stack: its Deployment, Service and, when asked for, autoscaler and secrets. */
final class LangConnectModel {

  static final int CONTAINER_PORT = 8080;
  static final long UID = 1000;

  private final EnvironmentValues values;
  private final EnvironmentValues.LangConnect langconnect;
  private final Names names;
  private final Optional<String> revision;
  private final PostgresModel postgres;

  LangConnectModel(EnvironmentValues values, Optional<String> revision, PostgresModel postgres) {
    this.values = values;
    this.langconnect = values.langconnect();
    this.names = new Names(values.release());
    this.revision = revision;
    this.postgres = postgres;
  }

  Deployment deployment() {
    // With autoscaling on, the autoscaler owns replicas; leaving them out keeps apply from fighting it.
    Integer replicas = langconnect.autoscaling().enabled() ? null : langconnect.replicas();
    var metadata = PodParts.metadata(names.langconnect(), values, Labels.LANGCONNECT, revision);
    // Tells discovery that this Deployment's variables say where its database is (no database workload does).
    if (!values.postgres().bundled()) {
      metadata.setAnnotations(new TreeMap<>(Optional.ofNullable(metadata.getAnnotations()).orElse(Map.of())));
      metadata.getAnnotations().put(Labels.ENGINE_ANNOTATION, values.postgres().engine().key());
    }
    return new DeploymentBuilder()
        .withMetadata(metadata)
        .withNewSpec()
        .withReplicas(replicas)
        .withNewSelector().withMatchLabels(Labels.selector(values.release(), Labels.LANGCONNECT)).endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(PodParts.podLabels(values, Labels.LANGCONNECT))
        .withAnnotations(PodParts.podAnnotations(values, langconnect.podAnnotations(), secretChecksum()))
        .endMetadata()
        .withNewSpec()
        .withAutomountServiceAccountToken(false)
        .withImagePullSecrets(PodParts.pullSecrets(values))
        .withSecurityContext(PodParts.podSecurity(UID))
        .withContainers(java.util.stream.Stream.of(container(), postgres.externalProbe(UID))
            .filter(java.util.Objects::nonNull).toList())
        .withVolumes(postgres.caVolume().stream().toList())
        .withNodeSelector(PodParts.nodeSelector(langconnect.scheduling()))
        .withTolerations(PodParts.tolerations(langconnect.scheduling()))
        .withAffinity(PodParts.affinity(langconnect.scheduling()))
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  private Container container() {
    EnvironmentValues.Auth auth = values.postgres().auth();
    List<EnvVar> env = new ArrayList<>(List.of(
        PodParts.literal("POSTGRES_HOST", postgres.host()),
        PodParts.literal("POSTGRES_PORT", Integer.toString(postgres.port())),
        PodParts.literal("POSTGRES_USER", auth.username()),
        PodParts.fromSecret("POSTGRES_PASSWORD", postgres.secretName(), postgres.passwordKey()),
        PodParts.literal("POSTGRES_DB", auth.database()),
        // LangConnect runs under uv, which needs a writable cache when the user is not root.
        PodParts.literal("UV_CACHE_DIR", "/tmp/.uv-cache")));
    env.addAll(postgres.clientTlsEnv());
    env.addAll(PodParts.extraEnv(langconnect.env()));
    langconnect.secrets().keySet().forEach(name -> env.add(PodParts.fromSecret(name, names.langconnect(), name)));
    ContainerBuilder container = PodParts.container("langconnect", langconnect.image(), "http", CONTAINER_PORT, env,
        langconnect.resources(), UID);
    postgres.mountCa(container);
    if (langconnect.livenessProbe().enabled()) container.withLivenessProbe(health(langconnect.livenessProbe()));
    if (langconnect.readinessProbe().enabled()) container.withReadinessProbe(health(langconnect.readinessProbe()));
    return container.build();
  }

  /** Null without {@code secrets:}: the Secret holding them, one key per environment variable. */
  Secret secret() {
    if (langconnect.secrets().isEmpty()) return null;
    Map<String, String> data = new TreeMap<>();
    langconnect.secrets().forEach((name, value) -> data.put(name, PostgresModel.base64(value)));
    return new SecretBuilder()
        .withMetadata(PodParts.metadata(names.langconnect(), values, Labels.LANGCONNECT, revision))
        .withType("Opaque")
        .withData(data)
        .build();
  }

  /** The database's Secrets, and LangConnect's own when it has secrets: a rewrite of any rolls the pods. */
  private String secretChecksum() {
    List<String> secrets = new ArrayList<>(postgres.clientSecrets());
    if (!langconnect.secrets().isEmpty()) secrets.add(names.langconnect());
    return Labels.secretsPlaceholder(secrets);
  }

  private static io.fabric8.kubernetes.api.model.Probe health(EnvironmentValues.Probe probe) {
    return PodParts.probe(probe, new ProbeBuilder()
        .withNewHttpGet().withPath(probe.path()).withPort(new IntOrString("http")).endHttpGet());
  }

  Service service() {
    return PodParts.service(names.langconnect(), values, Labels.LANGCONNECT, langconnect.service().type(), "http",
        langconnect.service().port(), revision);
  }

  /** Null unless autoscaling is enabled. */
  HorizontalPodAutoscaler autoscaler() {
    EnvironmentValues.Autoscaling autoscaling = langconnect.autoscaling();
    if (!autoscaling.enabled()) return null;
    List<MetricSpec> metrics = new ArrayList<>();
    autoscaling.targetCpuUtilization().ifPresent(target -> metrics.add(utilization("cpu", target)));
    autoscaling.targetMemoryUtilization().ifPresent(target -> metrics.add(utilization("memory", target)));
    return new HorizontalPodAutoscalerBuilder()
        .withMetadata(PodParts.metadata(names.langconnect(), values, Labels.LANGCONNECT, revision))
        .withNewSpec()
        .withNewScaleTargetRef().withApiVersion("apps/v1").withKind("Deployment").withName(names.langconnect())
        .endScaleTargetRef()
        .withMinReplicas(autoscaling.minReplicas())
        .withMaxReplicas(autoscaling.maxReplicas())
        .withMetrics(metrics)
        .endSpec()
        .build();
  }

  private static MetricSpec utilization(String resource, int percent) {
    return new MetricSpecBuilder().withType("Resource")
        .withNewResource().withName(resource).withNewTarget().withType("Utilization").withAverageUtilization(percent)
        .endTarget().endResource()
        .build();
  }
}
