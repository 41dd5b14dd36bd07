package io.langconnect.gitops.git;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Git URLs as they may be shown: credentials written into a URL ({@code https://user:token@host/...}, or a token
 * as the user name) are masked wherever the URL appears in text. Pure.
 */
public final class GitUrls {

  private static final Pattern USERINFO = Pattern.compile("\\b([A-Za-z][A-Za-z0-9+.-]*)://([^/@\\s]+)@");

  private GitUrls() {}

  /** {@code text} with the credentials of every URL in it masked; an ssh user name alone is kept ({@code git@}). */
  public static String redact(String text) {
    if (text == null) return null;
    Matcher m = USERINFO.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String scheme = m.group(1);
      String userinfo = m.group(2);
      boolean http = scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https");
      String shown = http ? "***" : userinfo.contains(":") ? userinfo.substring(0, userinfo.indexOf(':')) + ":***" : userinfo;
      m.appendReplacement(out, Matcher.quoteReplacement(scheme + "://" + shown + "@"));
    }
    m.appendTail(out);
    return out.toString();
  }
}
