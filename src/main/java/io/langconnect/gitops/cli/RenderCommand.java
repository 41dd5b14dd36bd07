package io.langconnect.gitops.cli;

import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.render.YamlDocuments;
import io.langconnect.gitops.values.ValuesFolder;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "render", mixinStandardHelpOptions = true,
    description = "Print an environment's objects as multi-document YAML, like helm template.%n"
        + "Exit 0 when rendered, 1 when the environment's values are invalid, 2 for bad usage.")
final class RenderCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  ValuesOption values;

  @Option(names = "--env", required = true, paramLabel = "NAME", description = "The environment (values-NAME.yaml).")
  String env;

  @Option(names = "--revision", paramLabel = "SHA", description = "Git revision to record on every object.")
  String revision;

  @Override
  public Integer call() {
    List<ValuesFolder.Environment> environments = values.load();
    ValuesFolder.Environment environment = environments.stream().filter(e -> e.name().equals(env)).findFirst()
        .orElseThrow(() -> new Main.UserError("no environment \"" + env + "\" in " + values.dir + "; found: "
            + (environments.isEmpty() ? "none" : String.join(", ", environments.stream().map(ValuesFolder.Environment::name).toList()))));
    environment.problems().forEach(problem -> spec.commandLine().getErr().println(problem));
    if (!environment.isValid()) {
      return 1;
    }
    String yaml = YamlDocuments.write(StackRenderer.render(environment.values().get(), Optional.ofNullable(revision)));
    spec.commandLine().getOut().print(yaml);
    spec.commandLine().getOut().flush();
    return 0;
  }
}
