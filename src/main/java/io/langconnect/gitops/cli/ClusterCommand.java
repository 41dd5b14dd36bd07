package io.langconnect.gitops.cli;

import picocli.CommandLine.Command;

/** The clusters environments may be placed on besides the controller's own. */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Prepare clusters environments are applied to.",
    subcommands = {ClusterAddCommand.class})
final class ClusterCommand {}
