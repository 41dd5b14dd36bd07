package io.langconnect.gitops.cluster;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.langconnect.gitops.config.ControllerConfig;
import io.langconnect.gitops.values.Sops;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The age keys that open values files encrypted with sops: those in {@code decryption.ageKeyFile} and in the Secret
 * {@code decryption.ageKeySecret} (key {@code age.agekey}) of the state namespace. Read at each use (only when a file
 * is encrypted), so a rotated key needs no restart. A Secret that cannot be read (other than absent) fails the read
 * of the values, which is then tried again: an unreadable key never turns environments invalid.
 */
public final class AgeKeys implements Supplier<Sops.Keys> {

  private final ControllerConfig.Decryption decryption;
  private final Optional<KubernetesClient> client;
  private final String namespace;

  /** {@code client} empty: the key file only (commands that read a local folder). */
  public AgeKeys(ControllerConfig.Decryption decryption, Optional<KubernetesClient> client, String namespace) {
    this.decryption = decryption;
    this.client = client;
    this.namespace = namespace;
  }

  @Override
  public Sops.Keys get() {
    List<String> identities = new ArrayList<>();
    List<String> origins = new ArrayList<>();
    if (decryption.ageKeyFile() != null) {
      Path file = Path.of(decryption.ageKeyFile());
      try {
        identities.addAll(Sops.Keys.parse(Files.readString(file, StandardCharsets.UTF_8), "").identities());
        origins.add(file.toString());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read decryption.ageKeyFile " + file + ": " + e.getMessage(), e);
      }
    }
    client.ifPresent(kubernetes -> {
      Secret secret = kubernetes.secrets().inNamespace(namespace).withName(decryption.ageKeySecret()).get();
      String value = secret == null || secret.getData() == null ? null
          : secret.getData().get(ControllerConfig.Decryption.SECRET_KEY);
      if (value == null) return;
      identities.addAll(Sops.Keys.parse(new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8), "")
          .identities());
      origins.add("Secret " + namespace + "/" + decryption.ageKeySecret());
    });
    String origin = origins.isEmpty() ? "(no key: neither decryption.ageKeyFile nor Secret " + namespace + "/"
        + decryption.ageKeySecret() + ")" : String.join(" and ", origins);
    return new Sops.Keys(identities, origin);
  }
}
