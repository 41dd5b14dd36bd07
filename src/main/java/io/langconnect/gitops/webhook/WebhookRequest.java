package io.langconnect.gitops.webhook;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** A delivery as it arrived: headers (case-insensitive) and the raw body bytes the signature covers. */
public record WebhookRequest(Map<String, String> headers, byte[] body) {

  public WebhookRequest {
    TreeMap<String, String> caseInsensitive = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    caseInsensitive.putAll(headers);
    headers = caseInsensitive;
  }

  public Optional<String> header(String name) {
    return Optional.ofNullable(headers.get(name));
  }

  /** The media type without parameters, lower case. */
  public String mediaType() {
    String type = header("Content-Type").orElse("");
    int semicolon = type.indexOf(';');
    return (semicolon >= 0 ? type.substring(0, semicolon) : type).trim().toLowerCase();
  }
}
