package io.langconnect.gitops.cli;

import io.langconnect.gitops.values.ValuesFolder;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Check every environment's values. Prints one line per problem.%n"
        + "Exit 0 when every environment is valid (warnings allowed), 1 when any is not, 2 for bad usage.")
final class ValidateCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  ValuesOption values;

  @Override
  public Integer call() {
    List<ValuesFolder.Environment> environments = values.load();
    if (environments.isEmpty()) {
      spec.commandLine().getOut().println(values.dir + ": no environments; expected values-<env>.yaml files");
      return 1;
    }
    // A problem in the shared values.yaml shows up once, not once per environment.
    Set<String> lines = new LinkedHashSet<>();
    environments.forEach(e -> e.problems().forEach(problem -> lines.add(problem.toString())));
    lines.forEach(spec.commandLine().getOut()::println);
    List<String> invalid = environments.stream().filter(e -> !e.isValid()).map(ValuesFolder.Environment::name).toList();
    spec.commandLine().getErr().println(environments.size() + " environment(s), "
        + (invalid.isEmpty() ? "all valid" : invalid.size() + " invalid: " + String.join(", ", invalid)));
    return invalid.isEmpty() ? 0 : 1;
  }
}
