package io.langconnect.gitops.render;

/** Object names of one release, in one place. */
public record Names(String release) {
  public String postgres() {
    return release + "-postgres";
  }

  public String secret() {
    return release + "-postgres";
  }

  public String dataClaim() {
    return release + "-postgres";
  }

  public String langconnect() {
    return release + "-langconnect";
  }

  public String backupCronJob() {
    return release + "-postgres-backup";
  }

  public String backupClaim() {
    return release + "-postgres-backups";
  }
}
