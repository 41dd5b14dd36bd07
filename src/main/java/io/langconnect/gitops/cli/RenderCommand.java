package io.langconnect.gitops.cli;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.langconnect.gitops.apply.ObjectDiff;
import io.langconnect.gitops.render.StackRenderer;
import io.langconnect.gitops.render.YamlDocuments;
import io.langconnect.gitops.values.ValuesFolder;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
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

  @Option(names = "--show-secrets", description = "Print Secrets' data as it will be applied (by default each value is"
      + " replaced by a short hash of it).")
  boolean showSecrets;

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
    List<HasMetadata> objects = StackRenderer.render(environment.values().get(), Optional.ofNullable(revision));
    String yaml = YamlDocuments.write(showSecrets ? objects : objects.stream().map(RenderCommand::redacted).toList());
    spec.commandLine().getOut().print(yaml);
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** A Secret with each value replaced by a short hash of it: what changed shows, what it is does not. */
  private static HasMetadata redacted(HasMetadata object) {
    if (!(object instanceof Secret secret) || secret.getData() == null) return object;
    Map<String, String> data = new TreeMap<>();
    secret.getData().forEach((key, value) -> data.put(key, ObjectDiff.hidden(value)));
    return new SecretBuilder(secret).withData(data).build();
  }
}
