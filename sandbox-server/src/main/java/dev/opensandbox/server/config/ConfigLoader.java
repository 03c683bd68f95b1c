package dev.opensandbox.server.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlTable;

/**
 * Finds, reads and validates the configuration file (the same file the Python server reads).
 *
 * <p>Lookup order, first match wins: the {@code --config} path, then {@code $SANDBOX_CONFIG_PATH} when
 * set and not empty, then {@code ~/.sandbox.toml}. A path named by {@code --config} or the variable
 * must exist. When the default file does not exist, the server starts on embedded defaults (Docker
 * runtime, SQLite store under {@code ~/.opensandbox}) instead of failing as upstream does.
 *
 * <p>The environment and the home directory are passed in; this class never reads them itself.
 * Home is {@code $HOME} when set and not empty, else the {@code user.home} property, as Python does.
 */
public final class ConfigLoader {
    public static final String CONFIG_PATH_ENV = "SANDBOX_CONFIG_PATH";
    public static final String API_KEY_ENV = "OPENSANDBOX_SERVER_API_KEY";
    public static final String DEFAULT_FILE_NAME = ".sandbox.toml";

    private final Map<String, String> env;
    private final Path home;

    /**
     * @param env the process environment (Main passes the real environment)
     * @param userHomeProperty the {@code user.home} system property, used when {@code $HOME} is unset
     */
    public ConfigLoader(Map<String, String> env, Path userHomeProperty) {
        this.env = Map.copyOf(env);
        this.home = resolveHome(env, userHomeProperty);
    }

    /** {@code $HOME} when set and not empty, else {@code userHomeProperty}. */
    public static Path resolveHome(Map<String, String> env, Path userHomeProperty) {
        String fromEnv = env.get("HOME");
        return fromEnv != null && !fromEnv.isEmpty() ? Path.of(fromEnv) : userHomeProperty;
    }

    /** The home directory every {@code ~} expands to. */
    public Path home() {
        return home;
    }

    /** {@code ~/.sandbox.toml}. */
    public Path defaultConfigPath() {
        return home.resolve(DEFAULT_FILE_NAME);
    }

    /**
     * Loads the configuration following the lookup order.
     *
     * @param cliConfigPath the {@code --config} argument, if any ({@code ~} is expanded)
     * @throws ConfigException if a named file is missing, or any file is unreadable or invalid
     */
    public LoadedConfig load(Optional<String> cliConfigPath) {
        Optional<String> named = cliConfigPath.filter(p -> !p.isEmpty())
                .or(() -> Optional.ofNullable(env.get(CONFIG_PATH_ENV)).filter(p -> !p.isEmpty()));
        if (named.isPresent()) {
            Path file = ConfigParser.expandHome(named.get(), home);
            if (!Files.exists(file)) {
                String origin = cliConfigPath.filter(p -> !p.isEmpty()).isPresent() ? "--config" : CONFIG_PATH_ENV;
                throw new ConfigException(file + ": configuration file not found (named by " + origin + ")");
            }
            return loadFile(file);
        }
        Path file = defaultConfigPath();
        if (!Files.exists(file)) {
            return embeddedDefaults();
        }
        return loadFile(file);
    }

    /** Loads one file, which must exist. */
    public LoadedConfig loadFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(file + ": " + (Files.exists(file) ? "is not a regular file"
                    : "configuration file not found"));
        }
        TomlParseResult toml;
        try {
            toml = Toml.parse(file);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read configuration file: " + e.getMessage(), e);
        }
        if (toml.hasErrors()) {
            TomlParseError first = toml.errors().get(0);
            throw new ConfigException(file + ": malformed TOML at line " + first.position().line() + ", column "
                    + first.position().column() + ": " + first.getMessage());
        }
        ConfigParser parser = new ConfigParser(home, env);
        ServerConfig config;
        try {
            config = parser.parse(toMap(toml), Optional.of(file));
        } catch (ConfigException e) {
            throw new ConfigException(file + ": " + e.getMessage(), e);
        }
        List<String> warnings = new ArrayList<>();
        parser.warnings().forEach(w -> warnings.add(file + ": " + w));
        return new LoadedConfig(applyEnvOverride(config), warnings, parser.notices(), List.of(file));
    }

    /** The built-in configuration used when {@code ~/.sandbox.toml} does not exist. */
    public LoadedConfig embeddedDefaults() {
        Map<String, Object> runtime = new LinkedHashMap<>();
        runtime.put("type", RuntimeSection.DOCKER);
        Map<String, Object> raw = new LinkedHashMap<>();
        raw.put("runtime", runtime);
        ConfigParser parser = new ConfigParser(home, env);
        ServerConfig config = applyEnvOverride(parser.parse(raw, Optional.empty()));
        List<String> notices = new ArrayList<>();
        notices.add("No configuration file at " + defaultConfigPath() + "; using embedded defaults (runtime="
                + config.runtime().type() + ", store=" + config.store().describe() + ")");
        notices.addAll(parser.notices());
        return new LoadedConfig(config, parser.warnings(), notices, List.of(defaultConfigPath()));
    }

    /** {@code OPENSANDBOX_SERVER_API_KEY}, when present (even empty), replaces {@code server.api_key}. */
    private ServerConfig applyEnvOverride(ServerConfig config) {
        return env.containsKey(API_KEY_ENV) ? config.withApiKey(Optional.of(env.get(API_KEY_ENV))) : config;
    }

    static Map<String, Object> toMap(TomlTable table) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (String key : table.keySet()) {
            map.put(key, plain(table.get(List.of(key))));
        }
        return map;
    }

    private static Object plain(Object value) {
        if (value instanceof TomlTable) {
            return toMap((TomlTable) value);
        }
        if (value instanceof TomlArray) {
            TomlArray array = (TomlArray) value;
            List<Object> list = new ArrayList<>(array.size());
            for (int i = 0; i < array.size(); i++) {
                list.add(plain(array.get(i)));
            }
            return list;
        }
        return value;
    }
}
