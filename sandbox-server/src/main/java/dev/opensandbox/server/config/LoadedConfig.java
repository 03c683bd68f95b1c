package dev.opensandbox.server.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The result of {@link ConfigLoader#load}: the validated configuration plus what Main should log.
 *
 * @param config the configuration, with the {@code OPENSANDBOX_SERVER_API_KEY} override applied
 * @param warnings one line per problem worth a WARN log (unknown keys and sections, misplaced keys)
 * @param notices one line per fact worth an INFO log (embedded defaults in use, ignored uvicorn knobs)
 * @param searched the places looked at for a file, in order
 */
public record LoadedConfig(ServerConfig config, List<String> warnings, List<String> notices, List<Path> searched) {

    public LoadedConfig {
        Check.notNull("config", config);
        warnings = List.copyOf(warnings);
        notices = List.copyOf(notices);
        searched = List.copyOf(searched);
    }

    /** True when no file was found at the default location and built-in defaults are in use. */
    public boolean usingEmbeddedDefaults() {
        return config.source().isEmpty();
    }
}
