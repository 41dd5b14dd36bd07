package io.langconnect.gitops.render;

import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.CapabilitiesBuilder;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SeccompProfileBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.langconnect.gitops.values.EnvironmentValues;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The pieces both components' pods are built from: metadata, resources, probes, variables and
 * placement, turned from values into fabric8 model objects. Pure functions, no I/O.
 */
final class PodParts {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private PodParts() {}

  static ObjectMeta metadata(String name, EnvironmentValues values, String component, Optional<String> revision) {
    ObjectMetaBuilder meta = new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(values.namespace())
        .withLabels(Labels.object(values.release(), component, values.environment()));
    revision.ifPresent(rev -> meta.withAnnotations(new TreeMap<>(Map.of(Labels.REVISION_ANNOTATION, rev))));
    return meta.build();
  }

  /** Pod labels: the selector, the environment, and the user's podLabels (which may not override the selector). */
  static Map<String, String> podLabels(EnvironmentValues values, String component) {
    Map<String, String> labels = new TreeMap<>(values.podLabels());
    labels.putAll(Labels.object(values.release(), component, values.environment()));
    return labels;
  }

  static Map<String, String> podAnnotations(EnvironmentValues values, Map<String, String> componentAnnotations,
                                            String secretChecksum) {
    Map<String, String> annotations = new TreeMap<>(values.podAnnotations());
    annotations.putAll(componentAnnotations);
    annotations.put(Labels.SECRET_CHECKSUM_ANNOTATION, secretChecksum);
    return annotations;
  }

  /** A Service for one component's pods, its single port pointing at the container port of the same name. */
  static Service service(String name, EnvironmentValues values, String component, String type, String portName,
                         int port, Optional<String> revision) {
    return new ServiceBuilder()
        .withMetadata(metadata(name, values, component, revision))
        .withNewSpec()
        .withType(type)
        .withSelector(Labels.selector(values.release(), component))
        .addNewPort().withName(portName).withPort(port).withProtocol("TCP").withNewTargetPort(portName).endPort()
        .endSpec()
        .build();
  }

  /** A container: image, variables, resources, non-root security. */
  static ContainerBuilder container(String name, EnvironmentValues.Image image, List<EnvVar> env,
                                    EnvironmentValues.Resources resources, long uid) {
    return new ContainerBuilder()
        .withName(name)
        .withImage(image.reference())
        .withImagePullPolicy(image.pullPolicy())
        .withEnv(env)
        .withResources(resources(resources))
        .withSecurityContext(containerSecurity(uid));
  }

  /** A component's main container, serving on one named port. */
  static ContainerBuilder container(String name, EnvironmentValues.Image image, String portName, int port,
                                    List<EnvVar> env, EnvironmentValues.Resources resources, long uid) {
    return container(name, image, env, resources, uid)
        .addNewPort().withName(portName).withContainerPort(port).withProtocol("TCP").endPort();
  }

  static ResourceRequirements resources(EnvironmentValues.Resources resources) {
    ResourceRequirementsBuilder builder = new ResourceRequirementsBuilder();
    if (!resources.limits().isEmpty()) builder.withLimits(quantities(resources.limits()));
    if (!resources.requests().isEmpty()) builder.withRequests(quantities(resources.requests()));
    return builder.build();
  }

  private static Map<String, Quantity> quantities(Map<String, String> byName) {
    Map<String, Quantity> result = new TreeMap<>();
    byName.forEach((name, value) -> result.put(name, new Quantity(value)));
    return result;
  }

  static EnvVar literal(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  static EnvVar fromSecret(String name, String secret, String key) {
    return new EnvVarBuilder().withName(name)
        .withNewValueFrom().withNewSecretKeyRef().withName(secret).withKey(key).endSecretKeyRef().endValueFrom()
        .build();
  }

  static List<EnvVar> extraEnv(List<EnvironmentValues.EnvVar> env) {
    return env.stream().map(var -> new EnvVarBuilder()
            .withName(var.name())
            .withValue(var.value().orElse(null))
            .withValueFrom(var.valueFrom().map(from -> SERIALIZATION.convertValue(from, EnvVarSource.class)).orElse(null))
            .build())
        .toList();
  }

  /** A zero delay is left out, as the API server leaves it out: written, it would read back as drift forever. */
  static Probe probe(EnvironmentValues.Probe probe, ProbeBuilder action) {
    return action
        .withInitialDelaySeconds(probe.initialDelaySeconds() == 0 ? null : probe.initialDelaySeconds())
        .withPeriodSeconds(probe.periodSeconds())
        .withTimeoutSeconds(probe.timeoutSeconds())
        .withSuccessThreshold(probe.successThreshold())
        .withFailureThreshold(probe.failureThreshold())
        .build();
  }

  static io.fabric8.kubernetes.api.model.PodSecurityContext podSecurity(long uid) {
    return new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder()
        .withRunAsNonRoot(true)
        .withRunAsUser(uid)
        .withRunAsGroup(uid)
        .withFsGroup(uid)
        .withSeccompProfile(new SeccompProfileBuilder().withType("RuntimeDefault").build())
        .build();
  }

  static io.fabric8.kubernetes.api.model.SecurityContext containerSecurity(long uid) {
    Capabilities dropAll = new CapabilitiesBuilder().withDrop("ALL").build();
    return new io.fabric8.kubernetes.api.model.SecurityContextBuilder()
        .withAllowPrivilegeEscalation(false)
        .withCapabilities(dropAll)
        .withRunAsNonRoot(true)
        .withRunAsUser(uid)
        .build();
  }

  static List<LocalObjectReference> pullSecrets(EnvironmentValues values) {
    return values.imagePullSecrets().stream().map(LocalObjectReference::new).toList();
  }

  static Map<String, String> nodeSelector(EnvironmentValues.Scheduling scheduling) {
    return new TreeMap<>(scheduling.nodeSelector());
  }

  static List<Toleration> tolerations(EnvironmentValues.Scheduling scheduling) {
    return scheduling.tolerations().stream().map(t -> SERIALIZATION.convertValue(t, Toleration.class)).toList();
  }

  static Affinity affinity(EnvironmentValues.Scheduling scheduling) {
    return scheduling.affinity().isEmpty() ? null : SERIALIZATION.convertValue(scheduling.affinity(), Affinity.class);
  }
}
