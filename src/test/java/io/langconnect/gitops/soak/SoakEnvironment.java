package io.langconnect.gitops.soak;

/**
 * One environment of the soak and the values the driver last committed for it. Persistent ones keep their database
 * on a claim (and have backups); production ones are held for a confirmation before they are pruned.
 */
final class SoakEnvironment {

  final String name;
  final String namespace;
  final boolean persistent;
  final boolean production;
  int replicas = 1;
  int mark;
  String memory = "64Mi";
  String schedule = "17 3 * * *";
  String password;
  /** In the values repository: the driver removes and restores one environment's file. */
  boolean present = true;
  /** The values last committed ("" while absent) and the index of that commit among the run's commits. */
  String committedValues = "";
  int changedAt;

  SoakEnvironment(String name, String namespace, boolean persistent, boolean production) {
    this.name = name;
    this.namespace = namespace;
    this.persistent = persistent;
    this.production = production;
    this.password = name + "-password-0";
  }

  String file() {
    return "values-" + name + ".yaml";
  }

  String values() {
    String out = """
        namespace: %s
        production: %s
        postgres:
          auth: {password: %s}
        """.formatted(namespace, production, password);
    if (persistent) out += "  persistence: {enabled: true, size: 1Gi}\n";
    out += """
        langconnect:
          replicaCount: %d
          env: [{name: SOAK_MARK, value: "%d"}]
          resources: {requests: {memory: %s}}
        """.formatted(replicas, mark, memory);
    if (persistent) {
      out += """
          backup:
            schedule: "%s"
            retention: 2
            storage: {size: 1Gi}
          """.formatted(schedule);
    }
    return out;
  }

  @Override
  public String toString() {
    return name;
  }
}
