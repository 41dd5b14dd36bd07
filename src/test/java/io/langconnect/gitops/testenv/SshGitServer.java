package io.langconnect.gitops.testenv;

import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.command.AbstractCommandSupport;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.UploadPack;

/**
 * A real SSH git server on loopback (Apache MINA sshd with JGit's upload-pack), for the SSH transport tests:
 * key authentication for one public key, a host key the client must find in its known_hosts.
 */
public final class SshGitServer implements AutoCloseable {

  private final SshServer server;

  private SshGitServer(SshServer server) {
    this.server = server;
  }

  public static SshGitServer start(Path repositories, Path hostKey, PublicKey allowed) throws IOException {
    SshServer server = SshServer.setUpDefaultServer();
    server.setHost("127.0.0.1");
    server.setPort(0);
    server.setKeyPairProvider(new SimpleGeneratorHostKeyProvider(hostKey));
    server.setPublickeyAuthenticator((user, key, session) -> KeyUtils.compareKeys(key, allowed));
    server.setPasswordAuthenticator((user, password, session) -> false);
    server.setCommandFactory((channel, command) -> new UploadPackCommand(command, repositories));
    server.start();
    return new SshGitServer(server);
  }

  public int port() {
    return server.getPort();
  }

  /** The known_hosts line for this server, as ssh-keyscan would print it. */
  public String knownHostsLine() throws Exception {
    KeyPair key = server.getKeyPairProvider().loadKeys(null).iterator().next();
    return "[127.0.0.1]:" + port() + " " + PublicKeyEntry.toString(key.getPublic());
  }

  @Override
  public void close() throws IOException {
    server.stop(true);
  }

  /** Serves "git-upload-pack '/name.git'" from a bare repository under the root. */
  private static final class UploadPackCommand extends AbstractCommandSupport {
    private final Path root;

    UploadPackCommand(String command, Path root) {
      super(command, null);
      this.root = root;
    }

    @Override
    public void run() {
      String command = getCommand();
      int exit = 0;
      try {
        if (!command.startsWith("git-upload-pack ")) throw new IOException("only git-upload-pack is served: " + command);
        String path = command.substring("git-upload-pack ".length()).replace("'", "").replaceFirst("^/", "");
        try (Repository repository = new FileRepositoryBuilder().setGitDir(root.resolve(path).toFile()).setMustExist(true)
            .build()) {
          new UploadPack(repository).upload(getInputStream(), getOutputStream(), getErrorStream());
        }
      } catch (Exception e) {
        exit = 1;
      } finally {
        onExit(exit);
      }
    }
  }
}
