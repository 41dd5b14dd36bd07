package io.langconnect.gitops.render;

import static org.assertj.core.api.Assertions.assertThat;

import io.langconnect.gitops.values.ValuesFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The example values in config/ render byte for byte as the reviewed golden files. When a change to
 * the output is intended, re-create them with
 * {@code java -jar target/langconnect-gitops.jar render --values config --env ENV --revision 0000000}.
 */
class RenderGoldenTest {

  @ParameterizedTest
  @ValueSource(strings = {"staging", "prod"})
  void exampleConfigRendersAsTheGoldenFile(String env) throws IOException {
    ValuesFolder.Environment environment = ValuesFolder.load(Path.of("config")).stream()
        .filter(e -> e.name().equals(env)).findFirst().orElseThrow();
    assertThat(environment.problems()).isEmpty();

    String rendered = YamlDocuments.write(StackRenderer.render(environment.values().get(), Optional.of("0000000")));

    assertThat(rendered).isEqualTo(Files.readString(Path.of("src/test/resources/golden/" + env + ".yaml")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"staging", "prod"})
  void renderingIsDeterministic(String env) throws IOException {
    ValuesFolder.Environment first = ValuesFolder.load(Path.of("config")).stream()
        .filter(e -> e.name().equals(env)).findFirst().orElseThrow();
    ValuesFolder.Environment second = ValuesFolder.load(Path.of("config")).stream()
        .filter(e -> e.name().equals(env)).findFirst().orElseThrow();
    assertThat(YamlDocuments.write(StackRenderer.render(second.values().get(), Optional.empty())))
        .isEqualTo(YamlDocuments.write(StackRenderer.render(first.values().get(), Optional.empty())));
  }
}
