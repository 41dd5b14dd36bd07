package io.langconnect.gitops.testenv;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;

/**
 * A real values repository for tests: a bare repository served by the local git daemon (or read over
 * file://), and a work tree to edit, commit and push from, as a user would.
 */
public final class ValuesRepo implements AutoCloseable {

  private final Path bare;
  private final Path work;
  private final Git git;
  private final String daemonUrl;
  /** Where pushes go: the bare repository, or a forge over HTTP. */
  private final String pushUrl;
  private final CredentialsProvider credentials;

  private ValuesRepo(Path bare, Path work, Git git, String daemonUrl, String pushUrl, CredentialsProvider credentials) {
    this.bare = bare;
    this.work = work;
    this.git = git;
    this.daemonUrl = daemonUrl;
    this.pushUrl = pushUrl;
    this.credentials = credentials;
  }

  /** A repository on the test env's forge: pushed to over HTTP with the admin's token, as a user pushes. */
  public static ValuesRepo onForge(Forge forge, String repository, Path workTree) throws GitAPIException {
    Git git = Git.init().setInitialBranch("main").setDirectory(workTree.toFile()).call();
    return new ValuesRepo(null, workTree, git, forge.cloneUrl(repository), forge.cloneUrl(repository),
        new UsernamePasswordCredentialsProvider("forge-admin", forge.token()));
  }

  public static ValuesRepo create(LocalControlPlane plane, Path workTree) throws GitAPIException, IOException {
    String name = "values-" + System.nanoTime() + ".git";
    Path bare = plane.gitDaemonRoot().resolve(name);
    Git.init().setBare(true).setInitialBranch("main").setDirectory(bare.toFile()).call().close();
    Git git = Git.init().setInitialBranch("main").setDirectory(workTree.toFile()).call();
    return new ValuesRepo(bare, workTree, git, plane.gitDaemonUrl() + "/" + name, bare.toUri().toString(), null);
  }

  /** The repository over the git protocol, from the local git daemon (over HTTP, for one on the forge). */
  public String gitUrl() {
    return daemonUrl;
  }

  public String fileUrl() {
    return bare.toUri().toString();
  }

  public ValuesRepo write(String file, String content) throws IOException {
    Path path = work.resolve(file);
    Files.createDirectories(path.getParent());
    Files.writeString(path, content);
    return this;
  }

  public ValuesRepo delete(String file) throws IOException {
    Files.deleteIfExists(work.resolve(file));
    return this;
  }

  /** Commits everything in the work tree and pushes it; returns the commit id. */
  public String commitAndPush(String message) throws GitAPIException {
    String commit = commitLocally(message);
    push();
    return commit;
  }

  /** Commits everything in the work tree without pushing; returns the commit id. */
  public String commitLocally(String message) throws GitAPIException {
    git.add().addFilepattern(".").call();
    git.add().setUpdate(true).addFilepattern(".").call();
    RevCommit commit = git.commit().setMessage(message).setAuthor("test", "test@example.com")
        .setCommitter("test", "test@example.com").setAllowEmpty(true).call();
    return commit.getId().name();
  }

  /** Moves the branch back to {@code commit} (as `git reset --hard` would), to be force-pushed: a rollback. */
  public ValuesRepo resetTo(String commit) throws GitAPIException {
    git.reset().setMode(org.eclipse.jgit.api.ResetCommand.ResetType.HARD).setRef(commit).call();
    return this;
  }

  public void push() throws GitAPIException {
    git.push().setRemote(pushUrl).setCredentialsProvider(credentials).add("main").setForce(true).call();
  }

  @Override
  public void close() {
    git.close();
  }
}
