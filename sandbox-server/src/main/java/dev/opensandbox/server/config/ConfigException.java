package dev.opensandbox.server.config;

/**
 * The configuration cannot be used: the file is missing, unreadable, malformed TOML, or a value
 * breaks a rule. The message always says where: the file (when there is one) and the dotted key,
 * for example {@code /etc/x.toml: server.port: must be between 1 and 65535 (got 70000)}.
 *
 * <p>Main reports the message on one line and exits with status 1; no stack trace is needed.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    /** An invalid value at a dotted key, without the file name (the loader adds it). */
    static ConfigException at(String dottedKey, String problem) {
        return new ConfigException(dottedKey + ": " + problem);
    }
}
