package io.langconnect.gitops.config;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** Reads {@link ControllerConfig} from a YAML file and {@code LANGCONNECT_GITOPS_*} environment variables. */
public final class ConfigLoader {

  public static final String ENV_PREFIX = "LANGCONNECT_GITOPS_";

  /** A configuration mistake, as one line naming the file, the key and what was expected. */
  public static final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
      super(message);
    }
  }

  private static final YAMLMapper MAPPER = YAMLMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .addModule(new SimpleModule().addDeserializer(Duration.class, new ValueDeserializer<Duration>() {
        @Override
        public Duration deserialize(JsonParser parser, DeserializationContext context) {
          return Durations.parse(parser.getValueAsString());
        }
      }))
      .build();

  private ConfigLoader() {}

  /** The file (if any), then the environment's overrides. */
  public static ControllerConfig load(Optional<Path> file, Map<String, String> environment) {
    String name = file.map(Path::toString).orElse("(defaults)");
    ObjectNode tree = MAPPER.createObjectNode();
    if (file.isPresent()) {
      try {
        JsonNode read = MAPPER.readTree(Files.readString(file.get()));
        if (read instanceof ObjectNode object) tree = object;
        else if (read != null && !read.isNull() && !read.isMissingNode()) {
          throw new ConfigException(name + ": expected a mapping with git:, kubernetes:, sync:, http:");
        }
      } catch (IOException e) {
        throw new ConfigException(name + ": cannot read: " + e.getMessage());
      } catch (JacksonException e) {
        throw new ConfigException(name + ":" + e.getLocation().getLineNr() + ": not valid YAML: " + e.getOriginalMessage());
      }
    }
    applyEnvironment(tree, ControllerConfig.class, "", environment);
    try {
      return MAPPER.treeToValue(tree, ControllerConfig.class);
    } catch (UnrecognizedPropertyException e) {
      throw new ConfigException(name + ": " + path(e) + ": unknown key; expected one of "
          + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")));
    } catch (JacksonException e) {
      // A record's own check names its full key already.
      if (e.getCause() instanceof ConfigException invalid) throw new ConfigException(name + ": " + invalid.getMessage());
      String cause = e.getCause() != null && e.getCause().getMessage() != null
          ? e.getCause().getMessage() : e.getOriginalMessage();
      throw new ConfigException(name + ": " + path(e) + ": " + cause);
    }
  }

  private static String path(JacksonException e) {
    return e.getPath().stream().map(ref -> ref.getPropertyName() != null ? ref.getPropertyName() : "[" + ref.getIndex() + "]")
        .collect(Collectors.joining(".")).replace(".[", "[");
  }

  /** Every scalar key of the config has an environment variable: git.interval is LANGCONNECT_GITOPS_GIT_INTERVAL. */
  private static void applyEnvironment(ObjectNode node, Class<?> type, String prefix, Map<String, String> environment) {
    for (RecordComponent component : type.getRecordComponents()) {
      String key = component.getName();
      String envName = prefix + key.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase();
      Class<?> componentType = component.getType();
      if (componentType.isRecord()) {
        JsonNode child = node.get(key);
        ObjectNode object = child instanceof ObjectNode o ? o : MAPPER.createObjectNode();
        applyEnvironment(object, componentType, envName + "_", environment);
        if (!object.isEmpty()) node.set(key, object);
      } else if (java.util.List.class.isAssignableFrom(componentType)) {
        // A list is written comma-separated: LANGCONNECT_GITOPS_KUBERNETES_ALLOWED_NAMESPACES="langconnect-*,team-*"
        String value = environment.get(ENV_PREFIX + envName);
        if (value != null) {
          var array = node.putArray(key);
          for (String item : value.split(",")) if (!item.isBlank()) array.add(item.strip());
        }
      } else if (!Map.class.isAssignableFrom(componentType)) {
        String value = environment.get(ENV_PREFIX + envName);
        if (value != null) node.put(key, value);
      }
    }
  }
}
