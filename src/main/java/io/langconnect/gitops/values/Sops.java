package io.langconnect.gitops.values;

import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.framework.stream.StandardDecryptingChannelFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaReaderFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Reads a values file that {@code sops} encrypted for age recipients, in memory, the way sops itself does
 * (getsops/sops): the data key is age-encrypted once per recipient ({@code sops.age[].enc}, ASCII-armored); each
 * value is AES-256-GCM with the path of its keys joined by ':' plus a trailing ':' as additional data, and a list's
 * items share their list's path ({@code aes/cipher.go}, {@code Tree.Decrypt} in {@code sops.go}); which values are
 * encrypted follows {@code unencrypted_suffix}, {@code encrypted_suffix}, {@code unencrypted_regex} and
 * {@code encrypted_regex} ({@code shouldBeEncrypted}); the MAC is SHA-512 over every plain value in document order
 * (only the encrypted ones, after a fixed prefix, with {@code mac_only_encrypted}), stored encrypted with
 * {@code lastmodified} as additional data ({@code decrypt/decrypt.go}). Comments play no part in the MAC and are
 * dropped. Pure: no I/O; a failure is a {@link Problem} that names the file and says why, never a value.
 */
public final class Sops {

  /** The metadata key sops adds at the top of the file. */
  static final String METADATA = "sops";

  private static final Pattern ENCRYPTED = Pattern.compile(
      "^ENC\\[AES256_GCM,data:([^,]*),iv:([^,]+),tag:([^,]+),type:([a-z0-9]+)]$");
  /** sops' MACOnlyEncryptedInitialization: makes a MAC over encrypted values differ from one over all. */
  private static final byte[] MAC_ONLY_ENCRYPTED_PREFIX = HexFormat.of().parseHex(
      "8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69");
  private static final String ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
  private static final String ARMOR_END = "-----END AGE ENCRYPTED FILE-----";

  /** Private age keys ({@code AGE-SECRET-KEY-1...}) that may open a file; where they came from, for messages. */
  public record Keys(List<String> identities, String origin) {
    public static final Keys NONE = new Keys(List.of(), "");

    public Keys {
      identities = List.copyOf(identities);
    }

    /** The keys in an age key file's text (as age-keygen writes it: comments, then one key per line). */
    public static Keys parse(String keyFileText, String origin) {
      return new Keys(keyFileText.lines().map(String::strip).filter(line -> line.startsWith("AGE-SECRET-KEY-"))
          .toList(), origin);
    }
  }

  /** Why a file could not be read; the message never holds a decrypted value. */
  static final class SopsException extends Exception {
    private final Source source;
    private final String keyPath;

    SopsException(Source source, String keyPath, String message) {
      super(message);
      this.source = source;
      this.keyPath = keyPath;
    }

    Problem problem() {
      return Problem.error(source, keyPath, getMessage());
    }
  }

  private Sops() {}

  /** Whether sops encrypted the file (it carries sops' metadata). */
  static boolean isEncrypted(YamlNode.Mapping root) {
    return root.entries().get(METADATA) instanceof YamlNode.Mapping metadata && metadata.entries().containsKey("mac");
  }

  /** The file's values, decrypted and checked against its MAC, without sops' metadata. */
  static YamlNode.Mapping decrypt(YamlNode.Mapping root, Keys keys) throws SopsException {
    YamlNode.Mapping metadata = (YamlNode.Mapping) root.entries().get(METADATA);
    Selection rules = Selection.of(metadata);
    byte[] dataKey = dataKey(metadata, keys);
    MessageDigest mac = sha512();
    if (rules.macOnlyEncrypted) mac.update(MAC_ONLY_ENCRYPTED_PREFIX);
    Map<String, YamlNode> entries = new LinkedHashMap<>();
    for (Map.Entry<String, YamlNode> entry : root.entries().entrySet()) {
      if (entry.getKey().equals(METADATA)) continue;
      entries.put(entry.getKey(), walk(entry.getValue(), List.of(entry.getKey()), rules, dataKey, mac));
    }
    String lastModified = text(metadata, "lastmodified");
    YamlNode macNode = metadata.entries().get("mac");
    byte[] stored;
    try {
      stored = HexFormat.of().parseHex(new String(open(scalarText(macNode), dataKey, lastModified), StandardCharsets.UTF_8));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new SopsException(macNode.source(), "sops.mac", "the file's MAC cannot be read with its data key (the MAC"
          + " or sops.lastmodified was altered); refused");
    }
    if (!MessageDigest.isEqual(stored, mac.digest())) {
      throw new SopsException(macNode.source(), "sops.mac", "the values do not match the file's MAC: a value, key or"
          + " their order was changed after sops encrypted the file; refused (re-encrypt it with sops)");
    }
    return new YamlNode.Mapping(entries, root.source());
  }

  private static YamlNode walk(YamlNode node, List<String> path, Selection rules, byte[] dataKey, MessageDigest mac)
      throws SopsException {
    if (node instanceof YamlNode.Mapping mapping) {
      Map<String, YamlNode> entries = new LinkedHashMap<>();
      for (Map.Entry<String, YamlNode> entry : mapping.entries().entrySet()) {
        List<String> childPath = new ArrayList<>(path);
        childPath.add(entry.getKey());
        entries.put(entry.getKey(), walk(entry.getValue(), childPath, rules, dataKey, mac));
      }
      return new YamlNode.Mapping(entries, mapping.source());
    }
    if (node instanceof YamlNode.Sequence sequence) {
      List<YamlNode> items = new ArrayList<>();
      for (YamlNode item : sequence.items()) items.add(walk(item, path, rules, dataKey, mac));
      return new YamlNode.Sequence(items, sequence.source());
    }
    YamlNode.Scalar scalar = (YamlNode.Scalar) node;
    if (scalar.isNull()) return scalar; // sops leaves null alone, and out of the MAC
    boolean encrypted = rules.encrypts(path);
    if (!encrypted) {
      if (!rules.macOnlyEncrypted) mac.update(macBytes(scalar.value()));
      return scalar;
    }
    String keyPath = String.join(".", path);
    if (scalar.value() instanceof String text && text.isEmpty()) {
      mac.update(new byte[0]);
      return scalar;
    }
    Matcher value = ENCRYPTED.matcher(scalar.value() instanceof String text ? text : "");
    if (!value.matches()) {
      throw new SopsException(scalar.source(), keyPath, "is plain in a file sops encrypted, where sops' rules say it is"
          + " encrypted (it was added or edited without sops); refused");
    }
    byte[] plain;
    try {
      plain = open(value.group(), dataKey, String.join(":", path) + ":");
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new SopsException(scalar.source(), keyPath, "cannot be decrypted with the file's data key (the value was"
          + " altered, or moved from another key); refused");
    }
    Object typed = typed(plain, value.group(4), scalar.source(), keyPath);
    mac.update(macBytes(typed));
    return new YamlNode.Scalar(typed, new String(plain, StandardCharsets.UTF_8), scalar.source(), true);
  }

  /** Decrypts one {@code ENC[AES256_GCM,...]} value: the data and tag are GCM's, the IV is sops' 32 bytes. */
  private static byte[] open(String encrypted, byte[] key, String additionalData) throws GeneralSecurityException {
    Matcher parts = ENCRYPTED.matcher(encrypted);
    if (!parts.matches()) throw new GeneralSecurityException("not an sops value");
    Base64.Decoder base64 = Base64.getDecoder();
    byte[] data = base64.decode(parts.group(1));
    byte[] iv = base64.decode(parts.group(2));
    byte[] tag = base64.decode(parts.group(3));
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(tag.length * 8, iv));
    gcm.updateAAD(additionalData.getBytes(StandardCharsets.UTF_8));
    byte[] sealed = new byte[data.length + tag.length];
    System.arraycopy(data, 0, sealed, 0, data.length);
    System.arraycopy(tag, 0, sealed, data.length, tag.length);
    return gcm.doFinal(sealed);
  }

  private static Object typed(byte[] plain, String type, Source source, String keyPath) throws SopsException {
    String text = new String(plain, StandardCharsets.UTF_8);
    try {
      return switch (type) {
        case "str", "bytes" -> text;
        case "int", "int64" -> Long.parseLong(text);
        case "float" -> Double.parseDouble(text);
        case "bool" -> Boolean.parseBoolean(text.toLowerCase());
        default -> throw new SopsException(source, keyPath, "has sops type " + type + "; expected str, int, float or bool");
      };
    } catch (NumberFormatException e) {
      throw new SopsException(source, keyPath, "decrypts to something that is not its sops type " + type + "; refused");
    }
  }

  /** What sops hashes for a value (its ToBytes): Go's formatting of numbers and booleans. */
  private static byte[] macBytes(Object value) {
    String text;
    if (value instanceof Boolean b) text = b ? "True" : "False";
    else if (value instanceof Double d) text = new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
    else text = String.valueOf(value);
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** The data key, from the first age stanza one of {@code keys} opens. */
  private static byte[] dataKey(YamlNode.Mapping metadata, Keys keys) throws SopsException {
    YamlNode ageNode = metadata.entries().get("age");
    List<String> recipients = new ArrayList<>();
    List<String> envelopes = new ArrayList<>();
    if (ageNode instanceof YamlNode.Sequence stanzas) {
      for (YamlNode stanza : stanzas.items()) {
        if (!(stanza instanceof YamlNode.Mapping m)) continue;
        Optional.ofNullable(m.entries().get("recipient")).map(Sops::scalarText).ifPresent(recipients::add);
        Optional.ofNullable(m.entries().get("enc")).map(Sops::scalarText).ifPresent(envelopes::add);
      }
    }
    if (envelopes.isEmpty()) {
      throw new SopsException(metadata.source(), "sops", "the file is encrypted for no age recipient (only age is"
          + " supported, not KMS, PGP or Vault); expected sops.age entries");
    }
    if (keys.identities().isEmpty()) {
      throw new SopsException(metadata.source(), "sops", "the file is encrypted with sops for " + String.join(", ",
          recipients) + " but no age key is configured; expected decryption.ageKeyFile or the Secret sops-age (key"
          + " age.agekey) in the controller's namespace");
    }
    List<RecipientStanzaReader> readers = new ArrayList<>();
    for (String identity : keys.identities()) {
      try {
        readers.add(X25519RecipientStanzaReaderFactory.newRecipientStanzaReader(identity));
      } catch (GeneralSecurityException | RuntimeException e) {
        throw new SopsException(metadata.source(), "sops", "an age key in " + keys.origin() + " is not a valid"
            + " AGE-SECRET-KEY-1... key");
      }
    }
    for (String envelope : envelopes) {
      Optional<byte[]> key = openEnvelope(envelope, readers);
      if (key.isPresent() && key.get().length == 32) return key.get();
    }
    throw new SopsException(metadata.source(), "sops", "the file is encrypted for " + String.join(", ", recipients)
        + "; none of the " + keys.identities().size() + " age key(s) in " + keys.origin() + " opens it");
  }

  private static Optional<byte[]> openEnvelope(String armored, List<RecipientStanzaReader> readers) {
    String body = armored.strip();
    if (!body.startsWith(ARMOR_BEGIN) || !body.endsWith(ARMOR_END)) return Optional.empty();
    body = body.substring(ARMOR_BEGIN.length(), body.length() - ARMOR_END.length()).replaceAll("\\s", "");
    try {
      byte[] encrypted = Base64.getDecoder().decode(body);
      try (ReadableByteChannel channel = new StandardDecryptingChannelFactory().newDecryptingChannel(
          Channels.newChannel(new ByteArrayInputStream(encrypted)), readers)) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(256);
        while (channel.read(buffer) >= 0) {
          buffer.flip();
          out.write(buffer.array(), 0, buffer.limit());
          buffer.clear();
        }
        return Optional.of(out.toByteArray());
      }
    } catch (GeneralSecurityException | IOException | RuntimeException e) {
      return Optional.empty(); // for another recipient, or not age at all: the caller says which recipients exist
    }
  }

  /** sops' rules for which values it encrypted ({@code shouldBeEncrypted}), from the file's own metadata. */
  private record Selection(String unencryptedSuffix, String encryptedSuffix, Pattern unencryptedRegex,
                       Pattern encryptedRegex, boolean macOnlyEncrypted) {

    static Selection of(YamlNode.Mapping metadata) throws SopsException {
      for (String unsupported : List.of("encrypted_comment_regex", "unencrypted_comment_regex")) {
        if (metadata.entries().containsKey(unsupported)) {
          throw new SopsException(metadata.entries().get(unsupported).source(), "sops." + unsupported,
              "is not supported (comments are not read); expected encrypted_regex, unencrypted_regex or a suffix");
        }
      }
      boolean anyRule = List.of("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex")
          .stream().anyMatch(metadata.entries()::containsKey);
      String unencryptedSuffix = Optional.ofNullable(metadata.entries().get("unencrypted_suffix")).map(Sops::scalarText)
          .orElse(anyRule ? "" : "_unencrypted");
      return new Selection(unencryptedSuffix,
          Optional.ofNullable(metadata.entries().get("encrypted_suffix")).map(Sops::scalarText).orElse(""),
          pattern(metadata, "unencrypted_regex"), pattern(metadata, "encrypted_regex"),
          metadata.entries().get("mac_only_encrypted") instanceof YamlNode.Scalar s && Boolean.TRUE.equals(s.value()));
    }

    private static Pattern pattern(YamlNode.Mapping metadata, String key) throws SopsException {
      YamlNode node = metadata.entries().get(key);
      if (node == null) return null;
      try {
        return Pattern.compile(scalarText(node));
      } catch (PatternSyntaxException e) {
        throw new SopsException(node.source(), "sops." + key, "is not a regular expression this controller can read: "
            + e.getDescription());
      }
    }

    boolean encrypts(List<String> path) {
      boolean encrypted = true;
      if (!unencryptedSuffix.isEmpty() && path.stream().anyMatch(p -> p.endsWith(unencryptedSuffix))) encrypted = false;
      if (!encryptedSuffix.isEmpty()) encrypted = path.stream().anyMatch(p -> p.endsWith(encryptedSuffix));
      if (unencryptedRegex != null && path.stream().anyMatch(p -> unencryptedRegex.matcher(p).find())) encrypted = false;
      if (encryptedRegex != null) encrypted = path.stream().anyMatch(p -> encryptedRegex.matcher(p).find());
      return encrypted;
    }
  }

  private static String text(YamlNode.Mapping metadata, String key) throws SopsException {
    YamlNode node = metadata.entries().get(key);
    if (node == null) throw new SopsException(metadata.source(), "sops." + key, "is missing; expected sops' metadata");
    return scalarText(node);
  }

  private static String scalarText(YamlNode node) {
    return node instanceof YamlNode.Scalar s && s.value() != null ? String.valueOf(s.value()) : "";
  }

  private static MessageDigest sha512() {
    try {
      return MessageDigest.getInstance("SHA-512");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no SHA-512", e);
    }
  }
}
