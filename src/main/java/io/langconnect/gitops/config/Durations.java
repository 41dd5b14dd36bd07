package io.langconnect.gitops.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as operators write them in Kubernetes tooling: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h30m}. */
public final class Durations {

  private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h)");

  private Durations() {}

  public static Duration parse(String text) {
    String trimmed = text.trim();
    Matcher m = PART.matcher(trimmed);
    Duration total = Duration.ZERO;
    int end = 0;
    while (m.find() && m.start() == end) {
      long n = Long.parseLong(m.group(1));
      total = total.plus(switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      });
      end = m.end();
    }
    if (trimmed.isEmpty() || end != trimmed.length()) {
      throw new IllegalArgumentException("\"" + text + "\" is not a duration; expected e.g. 30s, 5m, 1h30m or 500ms");
    }
    return total;
  }

  public static String format(Duration d) {
    if (d.toMillis() % 1000 != 0) return d.toMillis() + "ms";
    long s = d.toSeconds();
    if (s % 3600 == 0 && s > 0) return s / 3600 + "h";
    if (s % 60 == 0 && s > 0) return s / 60 + "m";
    return s + "s";
  }
}
