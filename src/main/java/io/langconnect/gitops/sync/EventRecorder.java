package io.langconnect.gitops.sync;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.langconnect.gitops.render.Labels;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Kubernetes Events on an environment's namespace, so `kubectl get events` shows why a sync failed. */
public final class EventRecorder {

  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);

  private final KubernetesClient client;
  private final String instance;

  public EventRecorder(KubernetesClient client, String instance) {
    this.client = client;
    this.instance = instance;
  }

  /** Best effort: an event that cannot be written is logged, never fails the sync. */
  public void warning(String namespace, String reason, String message) {
    record(namespace, "Warning", reason, message);
  }

  /** Something an operator wants to see in the namespace's history, such as a backup taken before a change. */
  public void normal(String namespace, String reason, String message) {
    record(namespace, "Normal", reason, message);
  }

  private void record(String namespace, String type, String reason, String message) {
    String now = DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    try {
      if (client.namespaces().withName(namespace).get() == null) return;
      client.v1().events().inNamespace(namespace).resource(new EventBuilder()
          .withNewMetadata().withGenerateName("langconnect-gitops.").withNamespace(namespace)
          .addToLabels(Labels.MANAGED_BY, Labels.MANAGER).endMetadata()
          .withNewInvolvedObject().withApiVersion("v1").withKind("Namespace").withName(namespace)
          .withNamespace(namespace).endInvolvedObject()
          .withType(type).withReason(reason).withMessage(message.length() > 1000 ? message.substring(0, 1000) : message)
          .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
          .withReportingComponent(Labels.MANAGER).withReportingInstance(instance)
          .withNewSource().withComponent(Labels.MANAGER).endSource()
          .build()).create();
    } catch (KubernetesClientException e) {
      LOG.warn("could not record event {} in {}: {}", reason, namespace, e.getMessage());
    }
  }
}
