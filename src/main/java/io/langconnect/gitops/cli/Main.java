package io.langconnect.gitops.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code langconnect-gitops} command line. */
@Command(
    name = "langconnect-gitops",
    mixinStandardHelpOptions = true,
    versionProvider = VersionCommand.Provider.class,
    description = "GitOps controller for LangConnect with PostgreSQL + pgvector on Kubernetes.",
    subcommands = {ServeCommand.class, SyncCommand.class, DiffCommand.class, RenderCommand.class, ValidateCommand.class,
        GetCommand.class, SuspendCommand.class, ResumeCommand.class, PruneCommand.class, ApplyWithoutBackupCommand.class,
        ConfirmNewDatabaseCommand.class, BackupCommand.class, RestoreCommand.class, ClusterCommand.class, VersionCommand.class, CommandLine.HelpCommand.class})
public final class Main {

  /** Exit code for a user's mistake in how the command was called (as picocli uses for usage errors). */
  public static final int EXIT_USAGE = 2;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((exception, commandLine, parseResult) -> {
      if (exception instanceof UserError userError) {
        commandLine.getErr().println("error: " + userError.getMessage());
        return EXIT_USAGE;
      }
      commandLine.getErr().println("error: " + exception);
      return 3;
    });
    cli.setParameterExceptionHandler((exception, args) -> {
      CommandLine cmd = exception.getCommandLine();
      cmd.getErr().println("error: " + exception.getMessage() + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
      return EXIT_USAGE;
    });
    return cli;
  }

  /** A mistake of the caller's, reported as one line and exit code 2, never as a stack trace. */
  public static final class UserError extends RuntimeException {
    public UserError(String message) {
      super(message);
    }
  }
}
