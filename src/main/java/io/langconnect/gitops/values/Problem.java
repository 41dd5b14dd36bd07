package io.langconnect.gitops.values;

/**
 * One finding about a values file: where it is, which key, what is wrong and what was expected.
 * Printed as {@code file:line: key.path: message}, one line, so editors and CI logs can jump to it.
 */
public record Problem(Severity severity, String file, int line, String keyPath, String message) {

  public enum Severity { ERROR, WARNING }

  public static Problem error(Source source, String keyPath, String message) {
    return new Problem(Severity.ERROR, source.file(), source.line(), keyPath, message);
  }

  public static Problem warning(Source source, String keyPath, String message) {
    return new Problem(Severity.WARNING, source.file(), source.line(), keyPath, message);
  }

  public boolean isError() {
    return severity == Severity.ERROR;
  }

  @Override
  public String toString() {
    String where = line > 0 ? file + ":" + line : file;
    String prefix = severity == Severity.WARNING ? "warning: " : "";
    return keyPath.isEmpty()
        ? where + ": " + prefix + message
        : where + ": " + prefix + keyPath + ": " + message;
  }
}
