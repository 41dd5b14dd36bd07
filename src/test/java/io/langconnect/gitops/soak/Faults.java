package io.langconnect.gitops.soak;

import io.fabric8.kubernetes.api.model.Pod;
import io.langconnect.gitops.cli.CliTest;
import io.langconnect.gitops.render.Labels;
import io.langconnect.gitops.testenv.Eventually;
import io.langconnect.gitops.testenv.FaultProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What the driver does to the running stack, one kind per method; each ends by itself (a server it stops is started
 * again before it returns) and says in a line what it did. Kinds that come together in production come together here:
 * a leader killed while the API server restarts, a push while git is down, a database pod deleted during a rotation.
 */
final class Faults {

  /**
   * A fault kind, how often the driver picks it, what it does, and whether it takes a server away (the API server,
   * etcd, git or a controller), so that an ERROR line in its window is the fault's report, not a defect.
   */
  record Kind(String name, int weight, boolean takesAServerAway, Action action) {}

  @FunctionalInterface
  interface Action {
    String run() throws Exception;
  }

  private final SoakStack stack;
  private final Random random;
  private final Invariants invariants;
  private String previousPush;
  private String lastPush;
  private boolean stagingBackedUp;

  Faults(SoakStack stack, Random random, Invariants invariants) {
    this.stack = stack;
    this.random = random;
    this.invariants = invariants;
    this.lastPush = stack.head();
  }

  /** The kinds named in {@code only} (every kind when it is empty); a name that is no kind is refused. */
  List<Kind> kinds(List<String> only) {
    List<Kind> all = all();
    List<String> names = all.stream().map(Kind::name).toList();
    for (String name : only) {
      if (!names.contains(name)) {
        throw new IllegalArgumentException("soak.faults: no fault kind '" + name + "'; the kinds are " + names);
      }
    }
    return all.stream().filter(kind -> only.isEmpty() || only.contains(kind.name())).toList();
  }

  private List<Kind> all() {
    return List.of(
        new Kind("values change", 6, false, this::valuesChange),
        new Kind("password rotation + database pod deleted", 2, false, this::rotation),
        new Kind("webhook duplicated and out of order", 3, false, this::webhooks),
        new Kind("hand edit of a live object", 3, false, this::handEdit),
        new Kind("hand delete of a live object", 2, false, this::handDelete),
        new Kind("pod deleted", 3, false, this::podDeleted),
        new Kind("leader SIGKILL", 2, true, this::killLeader),
        new Kind("leader SIGKILL + API server restart", 1, true, this::killLeaderDuringApiRestart),
        new Kind("API server restart", 2, true, this::restartApiServer),
        new Kind("etcd stopped", 2, true, this::pauseEtcd),
        new Kind("watches cut", 2, true, this::cutWatches),
        new Kind("push while git is down", 2, true, this::pushWhileGitDown),
        new Kind("backup", 2, false, this::backup),
        new Kind("restore of staging", 1, false, this::restoreStaging),
        new Kind("environment added or removed", 2, false, this::addOrRemove));
  }

  private SoakEnvironment anyPresent() {
    List<SoakEnvironment> present = stack.present();
    return present.get(random.nextInt(present.size()));
  }

  private String push(String message) throws Exception {
    previousPush = lastPush;
    lastPush = stack.commit(message);
    return lastPush;
  }

  // ---------------------------------------------------------------------------------------------------------

  private String valuesChange() throws Exception {
    SoakEnvironment env = anyPresent();
    String what;
    switch (random.nextInt(env.persistent ? 4 : 3)) {
      case 0 -> {
        env.replicas = env.replicas == 1 ? 2 : 1;
        what = "replicas " + env.replicas;
      }
      case 1 -> {
        env.mark++;
        what = "env SOAK_MARK " + env.mark;
      }
      case 2 -> {
        env.memory = env.memory.equals("64Mi") ? "80Mi" : "64Mi";
        what = "memory request " + env.memory;
      }
      default -> {
        env.schedule = (random.nextInt(50) + 5) + " 3 * * *";
        what = "backup schedule " + env.schedule;
      }
    }
    push(env + ": " + what);
    return env + ": " + what;
  }

  /** The README's rotation (the role's password first where the data lives on), its pod deleted meanwhile. */
  private String rotation() throws Exception {
    SoakEnvironment env = anyPresent();
    String next = env.name + "-password-" + (Integer.parseInt(env.password.replaceAll(".*-", "")) + 1);
    if (env.persistent) stack.query(env, "ALTER ROLE postgres PASSWORD '" + next + "'");
    env.password = next;
    push(env + ": rotate the database password");
    Thread.sleep(random.nextInt(3_000));
    deleteOne(env, Labels.POSTGRES);
    return env + ": password rotated, its database pod deleted during the rollout";
  }

  /** Signed as GitHub signs; each delivery twice (a redelivery), then the push before it (out of order). */
  private String webhooks() throws Exception {
    SoakEnvironment env = anyPresent();
    env.mark++;
    String before = lastPush;
    String after = push(env + ": a change announced by webhook");
    String delivery = UUID.randomUUID().toString();
    int first = deliver(before, after, env, delivery);
    int again = deliver(before, after, env, delivery);
    int stale = previousPush == null ? 0 : deliver(previousPush, before, env, UUID.randomUUID().toString());
    return env + ": push webhook answered %d, its redelivery %d, the older push after it %d".formatted(first, again, stale);
  }

  private int deliver(String before, String after, SoakEnvironment env, String delivery) throws Exception {
    String body = """
        {"ref":"refs/heads/main","before":"%s","after":"%s","repository":{"full_name":"soak/values"},
         "commits":[{"id":"%s","message":"soak","added":[],"modified":["%s"],"removed":[]}],"head_commit":{"id":"%s"}}"""
        .formatted(before, after, after, env.file(), after);
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(SoakStack.WEBHOOK_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    headers.put("X-GitHub-Event", "push");
    headers.put("X-GitHub-Delivery", delivery);
    headers.put("X-Hub-Signature-256", "sha256=" + HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8))));
    try {
      return stack.webhook(body, headers);
    } catch (Exception e) {
      return -1; // no answer: the poll brings the change
    }
  }

  private String handEdit() {
    SoakEnvironment env = anyPresent();
    if (random.nextBoolean()) {
      stack.admin.apps().deployments().inNamespace(env.namespace).withName("langconnect-langconnect").scale(0);
      return env + ": LangConnect scaled to 0 by hand";
    }
    stack.admin.services().inNamespace(env.namespace).withName("langconnect-postgres")
        .edit(s -> {
          s.getMetadata().getLabels().put("edited-by", "hand");
          s.getSpec().getPorts().get(0).setPort(15432);
          return s;
        });
    return env + ": the database Service's port changed by hand";
  }

  /**
   * A watched object comes back at once; a Secret (not watched) when a pod needs it, so its LangConnect pod is
   * deleted after it, as an eviction would.
   */
  private String handDelete() {
    SoakEnvironment env = anyPresent();
    if (random.nextBoolean()) {
      stack.admin.services().inNamespace(env.namespace).withName("langconnect-langconnect").delete();
      return env + ": Service langconnect-langconnect deleted by hand";
    }
    stack.admin.secrets().inNamespace(env.namespace).withName("langconnect-postgres").delete();
    return env + ": Secret langconnect-postgres deleted by hand, then " + deleteOne(env, Labels.LANGCONNECT);
  }

  private String podDeleted() {
    SoakEnvironment env = anyPresent();
    String component = random.nextBoolean() ? Labels.POSTGRES : Labels.LANGCONNECT;
    return env + ": " + deleteOne(env, component);
  }

  private String deleteOne(SoakEnvironment env, String component) {
    List<Pod> pods = stack.admin.pods().inNamespace(env.namespace).withLabel(Labels.COMPONENT, component).list().getItems();
    if (pods.isEmpty()) return "no " + component + " pod to delete";
    Pod pod = pods.get(random.nextInt(pods.size()));
    stack.admin.pods().inNamespace(env.namespace).withName(pod.getMetadata().getName()).delete();
    return component + " pod " + pod.getMetadata().getName() + " deleted";
  }

  private String killLeader() throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    Pod leader = stack.leader().orElse(null);
    while (leader == null && System.nanoTime() < deadline) { // a hand-over still under way
      Thread.sleep(1_000);
      leader = stack.leader().orElse(null);
    }
    if (leader == null) return "no leader to kill";
    String id = leader.getStatus().getContainerStatuses().get(0).getContainerID().replaceFirst("^[a-z]+://", "");
    SoakStack.run(List.of("scripts/test-env.sh", "fault", "kill-container", id));
    return "leader " + leader.getMetadata().getName() + " killed (SIGKILL)";
  }

  private String killLeaderDuringApiRestart() throws Exception {
    String killed = killLeader();
    return killed + ", then " + restartApiServer();
  }

  private String restartApiServer() throws Exception {
    SoakStack.run(List.of("scripts/test-env.sh", "fault", "restart-apiserver"));
    return "kube-apiserver restarted";
  }

  /**
   * Every connection of the controllers to the API server cut (their watches with them), as a load balancer's reset
   * would; half the time the API server then stays out of reach for a few seconds (each new connection cut).
   */
  private String cutWatches() throws Exception {
    int cut = stack.apiProxy.cutAll();
    if (random.nextBoolean()) return cut + " connections to the API server cut";
    int seconds = 2 + random.nextInt(7);
    stack.apiProxy.inject(Integer.MAX_VALUE, request -> true, FaultProxy.Fault.cut());
    try {
      Thread.sleep(seconds * 1_000L);
    } finally {
      stack.apiProxy.heal();
    }
    return cut + " connections to the API server cut, and every new one for " + seconds + " s";
  }

  private String pauseEtcd() throws Exception {
    int seconds = 2 + random.nextInt(5);
    SoakStack.run(List.of("scripts/test-env.sh", "fault", "pause-etcd", String.valueOf(seconds)));
    return "etcd stopped (SIGSTOP) for " + seconds + " s";
  }

  private String pushWhileGitDown() throws Exception {
    SoakEnvironment env = anyPresent();
    SoakStack.run(List.of("scripts/test-env.sh", "fault", "stop-git"));
    try {
      env.mark++;
      String before = lastPush;
      // The push goes to the bare repository itself; the controller fetches through the daemon that is down.
      String after = push(env + ": pushed while the git daemon is down");
      int answered = deliver(before, after, env, UUID.randomUUID().toString());
      Thread.sleep(5_000 + random.nextInt(15_000));
      return env + ": git daemon down, a push and its webhook (answered " + answered + ") meanwhile";
    } finally {
      SoakStack.run(List.of("scripts/test-env.sh", "fault", "start-git"));
    }
  }

  private String backup() throws Exception {
    return backup(stack.environment(random.nextBoolean() ? "prod" : "staging"));
  }

  private String backup(SoakEnvironment env) throws Exception {
    if (env.name.equals("staging")) {
      stack.query(env, "CREATE TABLE IF NOT EXISTS soak_backed_up (note text)");
      stack.query(env, "DELETE FROM soak_backed_up");
      stack.query(env, "INSERT INTO soak_backed_up VALUES ('in the backup')");
    }
    int answer = stack.post("/api/v1/environments/" + env.name + "/backup");
    if (answer != 202) return env + ": backup refused (" + answer + ")";
    Eventually.eventually("a backup of " + env + " done", Duration.ofMinutes(3), () -> lastBackupDone(env));
    if (env.name.equals("staging")) stagingBackedUp = true;
    return env + ": backup Job done";
  }

  private boolean lastBackupDone(SoakEnvironment env) {
    var jobs = stack.admin.batch().v1().jobs().inNamespace(env.namespace).list().getItems().stream()
        .filter(j -> j.getMetadata().getName().startsWith("langconnect-postgres-backup-manual-")).toList();
    return !jobs.isEmpty() && jobs.stream().allMatch(j -> j.getStatus() != null && j.getStatus().getSucceeded() != null
        && j.getStatus().getSucceeded() >= 1);
  }

  /** The README's restore of the newest backup: the row the backup held is back, one written after it is gone. */
  private String restoreStaging() throws Exception {
    SoakEnvironment staging = stack.environment("staging");
    if (!stagingBackedUp) return backup(staging) + " (first: a restore needs one)";
    stack.query(staging, "INSERT INTO soak_backed_up VALUES ('after the backup')");
    CliTest.Run restore = CliTest.run("restore", "--env", "staging", "--backup", "latest", "--confirm", "--values",
        stack.values.toString(), "--kubeconfig", stack.plane.kubeconfig());
    if (restore.exit() != 0) {
      invariants.restore.broke(invariants.now(), "restore exited " + restore.exit() + ": " + restore.err().strip());
      return "staging: restore FAILED";
    }
    var notes = stack.query(staging, "SELECT string_agg(note, ',' ORDER BY note) FROM soak_backed_up").getString(0);
    if (!"in the backup".equals(notes)) invariants.restore.broke(invariants.now(), "after the restore: " + notes);
    return "staging: restored from its newest backup";
  }

  private String addOrRemove() throws Exception {
    SoakEnvironment extra = stack.environment("extra");
    if (!extra.present) {
      extra.present = true;
      push("add extra");
      return "extra: added (production, on a claim)";
    }
    extra.present = false;
    push("remove extra");
    // A production environment's removal waits for its confirmation.
    Eventually.eventually("extra held for its prune confirmation", Duration.ofMinutes(3), () -> "PruneHeld".equals(
        stack.api("/api/v1/environments/extra").getString("result")));
    int confirmed = stack.post("/api/v1/environments/extra/prune");
    return "extra: removed, held, its prune confirmed (" + confirmed + ")";
  }
}
