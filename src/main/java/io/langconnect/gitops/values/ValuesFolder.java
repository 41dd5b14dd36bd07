package io.langconnect.gitops.values;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A folder of values files: {@code values.yaml} (optional, shared) and one {@code values-<env>.yaml}
 * per environment. Each environment is read, layered and bound on its own, so one bad file never
 * stops the others.
 */
public final class ValuesFolder {

  /** One environment's outcome: its values when valid, and every problem found in its files. */
  public record Environment(String name, String file, Optional<EnvironmentValues> values, List<Problem> problems) {
    public boolean isValid() {
      return values.isPresent();
    }
  }


  private ValuesFolder() {}

  /** Reads every values file directly inside {@code dir}, with the default namespace policy. */
  public static List<Environment> load(Path dir) throws IOException {
    return load(dir, NamespacePolicy.defaults());
  }

  /** Reads every values file directly inside {@code dir}. */
  public static List<Environment> load(Path dir, NamespacePolicy namespaces) throws IOException {
    return load(dir, namespaces, () -> Sops.Keys.NONE);
  }

  /** Reads every values file directly inside {@code dir}; files sops encrypted are opened with {@code keys}. */
  public static List<Environment> load(Path dir, NamespacePolicy namespaces, Supplier<Sops.Keys> keys) throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> entries = Files.list(dir)) {
      for (Path path : (Iterable<Path>) entries::iterator) {
        String name = path.getFileName().toString();
        if (Files.isRegularFile(path) && ValuesFiles.isValuesFile(name)) {
          files.put(name, Files.readString(path, StandardCharsets.UTF_8));
        }
      }
    }
    return load(files, "", namespaces, keys);
  }

  /**
   * Binds the environments found among {@code files} (file name to content). {@code displayPrefix} is
   * put before file names in problems, e.g. the folder inside a git repository.
   */
  public static List<Environment> load(Map<String, String> files, String displayPrefix) {
    return load(files, displayPrefix, NamespacePolicy.defaults());
  }

  /** As {@link #load(Map, String)}, with where environments may live. */
  public static List<Environment> load(Map<String, String> files, String displayPrefix, NamespacePolicy namespaces) {
    return load(files, displayPrefix, namespaces, () -> Sops.Keys.NONE);
  }

  /**
   * As {@link #load(Map, String, NamespacePolicy)}; files sops encrypted are opened with {@code keys}, asked for once
   * and only when a file is encrypted.
   */
  public static List<Environment> load(Map<String, String> files, String displayPrefix, NamespacePolicy namespaces,
                                       Supplier<Sops.Keys> keySource) {
    Supplier<Sops.Keys> keys = once(keySource);
    List<String> shared = files.keySet().stream().filter(ValuesFiles::isShared).sorted().toList();
    List<Problem> sharedProblems = new ArrayList<>();
    Optional<YamlNode.Mapping> base = Optional.of(new YamlNode.Mapping(Map.of(), new Source(displayPrefix + "values.yaml", 0)));
    if (shared.size() > 1) {
      sharedProblems.add(new Problem(Problem.Severity.ERROR, displayPrefix + shared.get(1), 0, "",
          "both values.yaml and values.yml exist; expected one shared values file"));
      base = Optional.empty();
    } else if (shared.size() == 1) {
      YamlReader.Result result = read(displayPrefix + shared.get(0), files.get(shared.get(0)), keys);
      sharedProblems.addAll(result.problems());
      base = result.mapping();
    }

    Map<String, String> envFiles = new TreeMap<>();
    List<Environment> environments = new ArrayList<>();
    for (String fileName : files.keySet()) {
      Optional<String> named = ValuesFiles.environmentOf(fileName);
      if (named.isEmpty()) continue;
      String env = named.get();
      String display = displayPrefix + fileName;
      String previous = envFiles.put(env, fileName);
      if (previous != null) {
        environments.removeIf(e -> e.name().equals(env));
        environments.add(failed(env, display, new Problem(Problem.Severity.ERROR, display, 0, "",
            "environment \"" + env + "\" also has " + previous + "; expected one file per environment")));
        continue;
      }
      environments.add(bindEnvironment(env, display, files.get(fileName), base, sharedProblems, namespaces, keys));
    }
    environments.sort((a, b) -> a.name().compareTo(b.name()));
    return environments;
  }

  private static Environment bindEnvironment(String env, String display, String text, Optional<YamlNode.Mapping> base,
                                             List<Problem> sharedProblems, NamespacePolicy namespaces,
                                             Supplier<Sops.Keys> keys) {
    int maxName = ValuesFiles.maxEnvironmentName();
    if (env.length() > maxName || Rules.dns1123Label(env) != null) {
      return failed(env, display, new Problem(Problem.Severity.ERROR, display, 0, "",
          "environment name \"" + env + "\" is not valid; expected a DNS-1123 label of at most " + maxName
              + " characters (lowercase letters, digits and '-'), e.g. values-staging.yaml"));
    }
    List<Problem> problems = new ArrayList<>(sharedProblems);
    YamlReader.Result own = read(display, text, keys);
    problems.addAll(own.problems());
    if (base.isEmpty() || own.mapping().isEmpty()) {
      return new Environment(env, display, Optional.empty(), List.copyOf(problems));
    }
    ValuesBinder.Binding binding = ValuesBinder.bind(env, Layering.merge(base.get(), own.mapping().get()), display, namespaces);
    problems.addAll(binding.problems());
    problems.sort(Comparator.comparing(Problem::file).thenComparingInt(Problem::line));
    boolean failed = problems.stream().anyMatch(Problem::isError);
    return new Environment(env, display, failed ? Optional.empty() : binding.values(), List.copyOf(problems));
  }

  /** One file, decrypted when sops encrypted it: a file that cannot be opened or fails its MAC is invalid. */
  private static YamlReader.Result read(String display, String text, Supplier<Sops.Keys> keys) {
    YamlReader.Result result = YamlReader.read(display, text);
    if (result.mapping().isEmpty() || !Sops.isEncrypted(result.mapping().get())) return result;
    try {
      return new YamlReader.Result(Optional.of(Sops.decrypt(result.mapping().get(), keys.get())), result.problems());
    } catch (Sops.SopsException e) {
      List<Problem> problems = new ArrayList<>(result.problems());
      problems.add(e.problem());
      return new YamlReader.Result(Optional.empty(), problems);
    }
  }

  private static Supplier<Sops.Keys> once(Supplier<Sops.Keys> source) {
    Sops.Keys[] memo = new Sops.Keys[1];
    return () -> memo[0] != null ? memo[0] : (memo[0] = source.get());
  }

  private static Environment failed(String env, String display, Problem problem) {
    return new Environment(env, display, Optional.empty(), List.of(problem));
  }
}
