package io.langconnect.gitops.values;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;

/**
 * Reads one values file into a {@link YamlNode.Mapping} with line numbers, using SnakeYAML Engine's
 * node composer (YAML 1.2 core schema: {@code yes} is a string, {@code "true"} is a string).
 */
public final class YamlReader {

  /** The outcome of reading a file: a mapping, or the problems that stopped it. */
  public record Result(Optional<YamlNode.Mapping> mapping, List<Problem> problems) {}

  private YamlReader() {}

  public static Result read(String file, String text) {
    LoadSettings settings = LoadSettings.builder()
        .setLabel(file)
        .setAllowDuplicateKeys(false)
        .setMaxAliasesForCollections(50)
        .setCodePointLimit(4 * 1024 * 1024)
        .build();
    List<Problem> problems = new ArrayList<>();
    Node root;
    try {
      Composer composer = new Composer(settings, new ParserImpl(settings, new StreamReader(settings, text)));
      Optional<Node> single = composer.getSingleNode();
      if (single.isEmpty()) {
        return new Result(Optional.of(new YamlNode.Mapping(Map.of(), new Source(file, 1))), problems);
      }
      root = single.get();
    } catch (MarkedYamlEngineException e) {
      Mark mark = e.getProblemMark().or(e::getContextMark).orElse(null);
      String where = mark == null ? "" : " (line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ")";
      String what = e.getProblem() == null ? "not valid YAML" : e.getProblem();
      int line = mark == null ? 0 : mark.getLine() + 1;
      problems.add(new Problem(Problem.Severity.ERROR, file, line, "",
          "YAML syntax error" + where + ": " + what));
      return new Result(Optional.empty(), problems);
    } catch (YamlEngineException e) {
      problems.add(new Problem(Problem.Severity.ERROR, file, 0, "", "YAML syntax error: " + e.getMessage()));
      return new Result(Optional.empty(), problems);
    }
    YamlNode converted = new Converter(file, problems).convert(root, "");
    if (converted instanceof YamlNode.Scalar scalar && scalar.isNull()) {
      return new Result(Optional.of(new YamlNode.Mapping(Map.of(), converted.source())), problems);
    }
    if (!(converted instanceof YamlNode.Mapping mapping)) {
      problems.add(Problem.error(converted.source(), "",
          "the file holds " + converted.describe() + "; expected a mapping of keys such as postgres: and langconnect:"));
      return new Result(Optional.empty(), problems);
    }
    return new Result(problems.stream().anyMatch(Problem::isError) ? Optional.empty() : Optional.of(mapping), problems);
  }

  private record Converter(String file, List<Problem> problems) {


    YamlNode convert(Node node, String path) {
      return convert(node, path, lineOf(node));
    }

    private int lineOf(Node node) {
      return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    /** A value is reported at the line of its key, where the user looks for it. */
    private YamlNode convert(Node node, String path, int line) {
      Source source = new Source(file, line);
      if (node instanceof MappingNode mappingNode) {
        Map<String, YamlNode> entries = new LinkedHashMap<>();
        for (NodeTuple tuple : mappingNode.getValue()) {
          Node keyNode = tuple.getKeyNode();
          if (!(keyNode instanceof ScalarNode keyScalar) || keyScalar.getValue().isEmpty()) {
            problems.add(Problem.error(source, path, "a key that is not a plain name; expected text keys"));
            continue;
          }
          String key = keyScalar.getValue();
          String childPath = path.isEmpty() ? key : path + "." + key;
          if (entries.containsKey(key)) {
            Source dup = new Source(file, lineOf(keyNode));
            problems.add(Problem.error(dup, childPath, "the key appears twice in one mapping; expected each key once"));
            continue;
          }
          entries.put(key, convert(tuple.getValueNode(), childPath, lineOf(keyNode)));
        }
        return new YamlNode.Mapping(entries, source);
      }
      if (node instanceof SequenceNode sequenceNode) {
        List<YamlNode> items = new ArrayList<>();
        int index = 0;
        for (Node item : sequenceNode.getValue()) {
          items.add(convert(item, path + "[" + index++ + "]"));
        }
        return new YamlNode.Sequence(items, source);
      }
      ScalarNode scalar = (ScalarNode) node;
      return new YamlNode.Scalar(typed(scalar), scalar.getValue(), source);
    }

    private static Object typed(ScalarNode scalar) {
      Tag tag = scalar.getTag();
      String text = scalar.getValue();
      if (Tag.NULL.equals(tag)) return null;
      if (Tag.BOOL.equals(tag)) return Boolean.parseBoolean(text.toLowerCase());
      if (Tag.INT.equals(tag)) return parseInteger(text);
      if (Tag.FLOAT.equals(tag)) return parseFloat(text);
      return text;
    }

    private static Object parseInteger(String text) {
      String t = text.replace("_", "");
      try {
        if (t.startsWith("0x")) return Long.parseLong(t.substring(2), 16);
        if (t.startsWith("0o")) return Long.parseLong(t.substring(2), 8);
        return Long.parseLong(t);
      } catch (NumberFormatException e) {
        return new BigInteger(t).doubleValue();
      }
    }

    private static Object parseFloat(String text) {
      String t = text.toLowerCase();
      if (t.endsWith(".inf")) return t.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
      if (t.equals(".nan")) return Double.NaN;
      return Double.parseDouble(t);
    }
  }
}
