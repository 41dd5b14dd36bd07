package io.langconnect.gitops.git;

import io.langconnect.gitops.values.ValuesFiles;
import io.langconnect.gitops.config.ControllerConfig;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.eclipse.jgit.api.FetchCommand;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.LsRemoteCommand;
import org.eclipse.jgit.api.TransportCommand;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.transport.TagOpt;
import org.eclipse.jgit.lib.SubmoduleConfig;

/**
 * The values repository, kept as a bare clone in a work directory: ask the remote for the branch head
 * (cheap), fetch only when it moved, and read the values files of a commit straight from its tree.
 * Blocking: call it from worker threads only.
 */
public final class ValuesRepository implements AutoCloseable, RevisionHistory {

  /** A git failure, with the operation and the remote named and no credentials. */
  /** A git failure, its message safe to show: credentials in URLs are masked. */
  public static final class GitException extends Exception {
    public GitException(String message, Throwable cause) {
      super(GitUrls.redact(message), cause);
    }
  }

  private final ControllerConfig.Git config;
  private final String url;
  private final CredentialsProvider credentials;
  private final SshdSessionFactory ssh;
  private final Git git;

  public ValuesRepository(ControllerConfig.Git config) throws GitException {
    this.config = config;
    this.url = config.optionalUrl().orElseThrow(() -> new GitException("no repository URL; expected --repo or git.url", null));
    this.credentials = credentials(config.auth());
    this.ssh = sshFactory(config.auth());
    this.git = openOrInit(Path.of(config.workDir()));
  }

  /** The repository's URL as it may be shown (credentials masked). */
  public String url() {
    return GitUrls.redact(url);
  }

  public String branch() {
    return config.branch();
  }

  private static Git openOrInit(Path dir) throws GitException {
    try {
      if (Files.isDirectory(dir.resolve("objects"))) return Git.open(dir.toFile());
      Files.createDirectories(dir);
      return Git.init().setBare(true).setDirectory(dir.toFile()).call();
    } catch (IOException | GitAPIException e) {
      throw new GitException("cannot open the work directory " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The remote branch head (an ls-remote: no objects are transferred). */
  public ObjectId remoteHead() throws GitException {
    String ref = Constants.R_HEADS + config.branch();
    try {
      LsRemoteCommand ls = Git.lsRemoteRepository().setRemote(url).setHeads(true);
      Collection<Ref> refs = configure(ls).call();
      return refs.stream().filter(r -> r.getName().equals(ref)).findFirst()
          .map(Ref::getObjectId)
          .orElseThrow(() -> new GitException("branch " + config.branch() + " not found at " + url, null));
    } catch (GitAPIException e) {
      throw new GitException("git ls-remote " + url + " failed: " + rootMessage(e), e);
    }
  }

  /**
   * Fetches the branch and returns the commit it points at: the first time shallow (one commit, where the remote
   * allows it), later only what is new since the commit fetched before. A later fetch asks for no depth: the server
   * then sends the new commits against what is here, about half the time of working out a new shallow boundary.
   */
  public ObjectId fetch() throws GitException {
    RefSpec spec = new RefSpec("+" + Constants.R_HEADS + config.branch() + ":" + trackingRef());
    try {
      try {
        // Tags and submodules are not values: following them costs a second round trip.
        FetchCommand fetch = git.fetch().setRemote(url).setRefSpecs(spec).setTagOpt(TagOpt.NO_TAGS)
            .setRecurseSubmodules(SubmoduleConfig.FetchRecurseSubmodulesMode.NO);
        if (fetchedHead().isEmpty()) fetch.setDepth(1);
        configure(fetch).call();
      } catch (GitAPIException shallowRefused) {
        FetchCommand full = git.fetch().setRemote(url).setRefSpecs(spec);
        configure(full).call();
      }
      ObjectId head = git.getRepository().resolve(trackingRef());
      if (head == null) throw new GitException("fetch of " + url + " gave no " + config.branch(), null);
      return head;
    } catch (GitAPIException | IOException e) {
      throw new GitException("git fetch " + url + " failed: " + rootMessage(e), e);
    }
  }

  /**
   * Whether {@code applying} comes before {@code recorded} on the branch. Its parents or commit times answer the usual
   * case (a child, or a newer commit) without history; otherwise the history is completed by one full fetch (fetches are shallow) and
   * {@code recorded} counts only while the branch still holds it: a force push that rolled it back makes the older
   * commit the one to apply.
   */
  @Override
  public synchronized Order order(String applying, String recorded) {
    if (applying.equals(recorded) || !ObjectId.isId(applying) || !ObjectId.isId(recorded)) return Order.NOT_OLDER;
    Repository repository = git.getRepository();
    ObjectId older = ObjectId.fromString(applying);
    ObjectId newer = ObjectId.fromString(recorded);
    try (RevWalk walk = new RevWalk(repository)) {
      if (repository.getObjectDatabase().has(older) && repository.getObjectDatabase().has(newer)) {
        RevCommit candidate = walk.parseCommit(older);
        // A child of the recorded commit (one push of one commit: the usual case), or a later commit.
        if (java.util.Arrays.stream(candidate.getParents()).anyMatch(parent -> parent.equals(newer))
            || candidate.getCommitTime() > walk.parseCommit(newer).getCommitTime()) {
          return Order.NOT_OLDER;
        }
      }
      RefSpec spec = new RefSpec("+" + Constants.R_HEADS + config.branch() + ":" + trackingRef());
      FetchCommand full = git.fetch().setRemote(url).setRefSpecs(spec);
      if (!repository.getObjectDatabase().getShallowCommits().isEmpty()) full.setUnshallow(true);
      configure(full).call();
      ObjectId head = repository.resolve(trackingRef());
      if (head == null || !repository.getObjectDatabase().has(newer) || !repository.getObjectDatabase().has(older)) {
        return Order.NOT_OLDER;
      }
      walk.reset();
      RevCommit recordedCommit = walk.parseCommit(newer);
      if (!walk.isMergedInto(recordedCommit, walk.parseCommit(head))) return Order.NOT_OLDER; // no longer on the branch
      walk.reset();
      return walk.isMergedInto(walk.parseCommit(older), walk.parseCommit(newer)) ? Order.OLDER : Order.NOT_OLDER;
    } catch (GitAPIException | IOException | RuntimeException e) {
      return Order.UNKNOWN;
    }
  }

  /** The commit last fetched, if any (survives restarts: it is in the work directory). */
  public Optional<ObjectId> fetchedHead() {
    try {
      return Optional.ofNullable(git.getRepository().resolve(trackingRef()));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private String trackingRef() {
    return Constants.R_REMOTES + "origin/" + config.branch();
  }

  /**
   * The values files directly inside the configured path at {@code commit}, by file name; empty when the
   * path does not exist in that commit.
   */
  public Optional<Map<String, String>> valuesFiles(ObjectId commit) throws GitException {
    Repository repository = git.getRepository();
    try (RevWalk walk = new RevWalk(repository); ObjectReader reader = repository.newObjectReader()) {
      RevCommit revCommit = walk.parseCommit(commit);
      String path = normalizedPath();
      TreeWalk tree;
      if (path.isEmpty()) {
        tree = new TreeWalk(repository, reader);
        tree.addTree(revCommit.getTree());
      } else {
        TreeWalk dir = TreeWalk.forPath(repository, reader, path, revCommit.getTree());
        if (dir == null || !dir.isSubtree()) return Optional.empty();
        tree = new TreeWalk(repository, reader);
        tree.addTree(dir.getObjectId(0));
        dir.close();
      }
      Map<String, String> files = new TreeMap<>();
      try (tree) {
        tree.setRecursive(false);
        while (tree.next()) {
          String name = tree.getNameString();
          if (!tree.isSubtree() && ValuesFiles.isValuesFile(name)) {
            files.put(name, new String(reader.open(tree.getObjectId(0)).getBytes(), StandardCharsets.UTF_8));
          }
        }
      }
      return Optional.of(files);
    } catch (IOException e) {
      throw new GitException("cannot read " + config.path() + " at " + commit.name() + ": " + e.getMessage(), e);
    }
  }

  /** The configured path as git names it inside the tree ("" for the root). */
  public String normalizedPath() {
    String p = config.path().replace('\\', '/');
    while (p.startsWith("./")) p = p.substring(2);
    if (p.equals(".")) p = "";
    while (p.endsWith("/")) p = p.substring(0, p.length() - 1);
    return p;
  }

  /** How names of values files start when shown to users: "" for the root, else the path and a slash. */
  public String displayPrefix() {
    return normalizedPath().isEmpty() ? "" : normalizedPath() + "/";
  }

  private <C extends TransportCommand<C, ?>> C configure(C command) {
    command.setTimeout((int) Math.max(1, config.timeout().toSeconds()));
    if (credentials != null) command.setCredentialsProvider(credentials);
    if (ssh != null) {
      command.setTransportConfigCallback(transport -> {
        if (transport instanceof SshTransport sshTransport) sshTransport.setSshSessionFactory(ssh);
      });
    }
    return command;
  }

  private static CredentialsProvider credentials(ControllerConfig.GitAuth auth) throws GitException {
    if (auth.tokenFile() != null) {
      String username = auth.usernameFile() != null ? readSecret(auth.usernameFile()) : "git";
      return new UsernamePasswordCredentialsProvider(username, readSecret(auth.tokenFile()));
    }
    if (auth.usernameFile() != null && auth.passwordFile() != null) {
      return new UsernamePasswordCredentialsProvider(readSecret(auth.usernameFile()), readSecret(auth.passwordFile()));
    }
    return null;
  }

  private static SshdSessionFactory sshFactory(ControllerConfig.GitAuth auth) throws GitException {
    if (auth.sshKeyFile() == null) return null;
    Path key = Path.of(auth.sshKeyFile());
    if (!Files.isReadable(key)) throw new GitException("git.auth.sshKeyFile " + key + " is not readable", null);
    if (auth.knownHostsFile() == null) {
      throw new GitException("git.auth.sshKeyFile is set but git.auth.knownHostsFile is not; expected a known_hosts"
          + " file so that the server's key is checked", null);
    }
    Path knownHosts = Path.of(auth.knownHostsFile());
    File home = key.getParent().toFile();
    return new SshdSessionFactoryBuilder()
        .setHomeDirectory(home)
        .setSshDirectory(home)
        .setDefaultIdentities(dir -> List.of(key))
        .setDefaultKnownHostsFiles(dir -> List.of(knownHosts))
        .build(null);
  }

  private static String readSecret(String file) throws GitException {
    try {
      return Files.readString(Path.of(file)).strip();
    } catch (IOException e) {
      throw new GitException("cannot read credentials file " + file + ": " + e.getMessage(), e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return t == e ? message : e.getMessage() + " (" + message + ")";
  }

  @Override
  public void close() {
    git.close();
    if (ssh != null) ssh.close();
  }
}
