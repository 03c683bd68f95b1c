package dev.opensandbox.server.config;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code [store]}: where snapshot records (and our other persistent state) live.
 *
 * @param type {@code sqlite} (default) or, ours, {@code memory} for demos (nothing survives a restart)
 * @param path SQLite file ({@code ~} expanded; default {@code ~/.opensandbox/opensandbox.db})
 */
public record StoreSection(String type, Path path) {

    public static final String SQLITE = "sqlite";
    public static final String MEMORY = "memory";
    static final List<String> TYPES = List.of(SQLITE, MEMORY);

    public StoreSection {
        Check.oneOf("store.type", type, TYPES);
        Check.notNull("store.path", path);
    }

    static StoreSection defaults(Path home) {
        return new StoreSection(SQLITE, home.resolve(".opensandbox").resolve("opensandbox.db"));
    }

    /** {@code sqlite:/path} or {@code memory}, for log lines. */
    public String describe() {
        return SQLITE.equals(type) ? SQLITE + ":" + path : MEMORY;
    }
}
