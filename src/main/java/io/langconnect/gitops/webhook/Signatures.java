package io.langconnect.gitops.webhook;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HMAC-SHA256 signatures and token checks, always compared in constant time. */
public final class Signatures {

  private Signatures() {}

  public static String hmacSha256Hex(byte[] secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
    }
  }

  /** Whether {@code givenHex} (any case) is the HMAC-SHA256 of {@code body} under {@code secret}. */
  public static boolean validHmac(byte[] secret, byte[] body, String givenHex) {
    if (givenHex == null) return false;
    byte[] expected = hmacSha256Hex(secret, body).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, givenHex.trim().toLowerCase().getBytes(StandardCharsets.US_ASCII));
  }

  public static boolean sameToken(byte[] secret, String given) {
    return given != null && MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8));
  }
}
