package dev.opensandbox.server.config;

/**
 * The API-key startup guard refused to start the server. Main logs the message and exits with
 * status 1, before any runtime side effect has happened.
 */
public final class StartupBlockedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StartupBlockedException(String message) {
        super(message);
    }
}
