package io.langconnect.gitops.testenv;

/** Reading one series out of a Prometheus scrape, as the end-to-end tests and the soak check the controller's. */
public final class Scrapes {

  private Scrapes() {}

  /** The value of the first {@code metric} series of {@code namespace} carrying every one of {@code labels}; NaN if none. */
  public static double value(String scrape, String metric, String namespace, String... labels) {
    for (String line : scrape.lines().toList()) {
      if (!line.startsWith(metric + "{") || !line.contains("namespace=\"" + namespace + "\"")) continue;
      boolean all = true;
      for (String label : labels) all &= line.contains(label);
      if (all) return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
    return Double.NaN;
  }
}
