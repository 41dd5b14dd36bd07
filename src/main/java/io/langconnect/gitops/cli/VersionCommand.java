package io.langconnect.gitops.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "version", mixinStandardHelpOptions = true, description = "Print the version.")
final class VersionCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  static String version() {
    String version = Main.class.getPackage().getImplementationVersion();
    return "langconnect-gitops " + (version == null ? "dev" : version);
  }

  @Override
  public Integer call() {
    spec.commandLine().getOut().println(version());
    return 0;
  }

  static final class Provider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {version()};
    }
  }
}
