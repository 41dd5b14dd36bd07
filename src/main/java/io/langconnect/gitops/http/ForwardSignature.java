package io.langconnect.gitops.http;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How a standby vouches for a request it passes on to the leader without passing on the caller's credential: an
 * HMAC, keyed with the API token both replicas hold, over the method, the path, the body, a time and a nonce. Whoever
 * holds the address the standby sends to (the leader ConfigMap could be rewritten) learns no token, and can replay
 * the one request only within {@link #WINDOW} (the leader remembers nonces that long). Pure.
 */
final class ForwardSignature {

  static final Duration WINDOW = Duration.ofSeconds(60);

  private ForwardSignature() {}

  /** The header value: {@code <epoch seconds>.<nonce>.<hex HMAC-SHA256>}. */
  static String sign(String token, String method, String uri, byte[] body, Instant at, String nonce) {
    long seconds = at.getEpochSecond();
    return seconds + "." + nonce + "." + HexFormat.of().formatHex(mac(token, method, uri, body, seconds, nonce));
  }

  /** The nonce of a signature that is genuine and fresh at {@code now}; empty for any other value. */
  static Optional<String> verify(String token, String header, String method, String uri, byte[] body, Instant now) {
    String[] parts = header.split("\\.", 3);
    if (parts.length != 3 || token.isEmpty()) return Optional.empty();
    long seconds;
    byte[] given;
    try {
      seconds = Long.parseLong(parts[0]);
      given = HexFormat.of().parseHex(parts[2]);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (Math.abs(now.getEpochSecond() - seconds) > WINDOW.toSeconds()) return Optional.empty();
    return MessageDigest.isEqual(given, mac(token, method, uri, body, seconds, parts[1])) ? Optional.of(parts[1])
        : Optional.empty();
  }

  private static byte[] mac(String token, String method, String uri, byte[] body, long seconds, String nonce) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(token.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      String head = method + "\n" + uri + "\n" + seconds + "\n" + nonce + "\n"
          + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
      return mac.doFinal(head.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
    }
  }
}
