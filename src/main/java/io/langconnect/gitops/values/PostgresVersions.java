package io.langconnect.gitops.values;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The PostgreSQL major version an image tag or a server names: the data directory of one opens in no other. */
public final class PostgresVersions {

  /** pgvector's tags say it after "pg" ({@code pg16}, {@code 0.8.0-pg17}); postgres' own lead with it ({@code 16.4-bookworm}). */
  private static final Pattern PG_TAG = Pattern.compile("(?:^|[-_.])pg(\\d{1,2})(?:$|[-_.])");
  private static final Pattern LEADING = Pattern.compile("^(\\d{1,2})(?:$|[-_.])");

  private PostgresVersions() {}

  /** The major version a tag names, or empty for {@code latest}, a digest, or a tag without one. */
  public static Optional<Integer> major(String tag) {
    if (tag == null || tag.startsWith("sha256:")) return Optional.empty();
    Matcher pg = PG_TAG.matcher(tag);
    if (pg.find()) return Optional.of(Integer.parseInt(pg.group(1)));
    Matcher leading = LEADING.matcher(tag);
    if (leading.find()) {
      int major = Integer.parseInt(leading.group(1));
      if (major >= 9) return Optional.of(major);
    }
    return Optional.empty();
  }

  /** {@code server_version_num} (160004 for 16.4; 90624 for 9.6.24) as the major version. */
  public static int majorOf(int serverVersionNum) {
    return serverVersionNum >= 100000 ? serverVersionNum / 10000 : serverVersionNum / 100 / 100;
  }
}
