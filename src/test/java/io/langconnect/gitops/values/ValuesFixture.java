package io.langconnect.gitops.values;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds a values folder in memory, the way a user's repository would hold it. */
public final class ValuesFixture {

  /** The smallest valid environment file: LangConnect's image is the one required value. */
  public static final String MINIMAL = """
      langconnect:
        image:
          repository: registry.example.com/langconnect
      """;

  private final Map<String, String> files = new LinkedHashMap<>();

  public static ValuesFixture folder() {
    return new ValuesFixture();
  }

  public ValuesFixture shared(String yaml) {
    files.put("values.yaml", yaml);
    return this;
  }

  public ValuesFixture env(String name, String yaml) {
    files.put("values-" + name + ".yaml", yaml);
    return this;
  }

  public List<ValuesFolder.Environment> load() {
    return ValuesFolder.load(files, "");
  }

  public ValuesFolder.Environment environment(String name) {
    return load().stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow();
  }

  public EnvironmentValues valid(String name) {
    ValuesFolder.Environment env = environment(name);
    if (!env.isValid()) throw new AssertionError("expected " + name + " to be valid, got " + env.problems());
    return env.values().get();
  }

  /** Binds one environment file, over a shared values.yaml holding {@link #MINIMAL}; returns its problems as printed. */
  public static List<String> problemsOf(String envYaml) {
    return lines(folder().shared(MINIMAL).env("dev", envYaml));
  }

  /** Binds one environment file on its own, with no shared values.yaml. */
  public static List<String> problemsAlone(String envYaml) {
    return lines(folder().env("dev", envYaml));
  }

  private static List<String> lines(ValuesFixture folder) {
    return folder.environment("dev").problems().stream().map(Problem::toString).toList();
  }
}
