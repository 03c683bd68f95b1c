package dev.opensandbox.server.config;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Refuses to start an unauthenticated server unless someone has acknowledged it, whatever the bind
 * address. Run it after loading the configuration and before any runtime side effect.
 *
 * <ul>
 *   <li>a non-blank API key: pass;
 *   <li>{@code OPENSANDBOX_INSECURE_SERVER} exactly {@code YES}: pass, with a warning to log;
 *   <li>an interactive terminal: the operator must type exactly {@code YES} within 30 seconds;
 *   <li>otherwise: blocked.
 * </ul>
 */
public final class ApiKeyGuard {
    public static final String INSECURE_ENV = "OPENSANDBOX_INSECURE_SERVER";
    public static final Duration CONFIRMATION_TIMEOUT = Duration.ofSeconds(30);

    static final String INSECURE_ACKNOWLEDGED = "Authentication is DISABLED: server.api_key is empty and "
            + INSECURE_ENV + " acknowledges insecure mode.";
    static final String CONFIRMED_INTERACTIVELY =
            "Authentication is DISABLED: server.api_key is empty and the operator confirmed insecure mode at the prompt.";
    static final String NON_INTERACTIVE = "Startup blocked: server.api_key is empty in non-interactive mode. "
            + "Set server.api_key (or " + ConfigLoader.API_KEY_ENV + "), or set " + INSECURE_ENV
            + "=YES to run without authentication.";

    private final Map<String, String> env;
    private final Terminal terminal;
    private final Duration timeout;

    /**
     * @param env the process environment (Main passes the real environment)
     * @param terminal the operator's terminal ({@link Terminal#system()} in production)
     */
    public ApiKeyGuard(Map<String, String> env, Terminal terminal) {
        this(env, terminal, CONFIRMATION_TIMEOUT);
    }

    ApiKeyGuard(Map<String, String> env, Terminal terminal, Duration timeout) {
        this.env = Map.copyOf(env);
        this.terminal = terminal;
        this.timeout = timeout;
    }

    /**
     * Checks the effective configuration.
     *
     * @return a warning to log when the server will run without authentication; empty when a key is set
     * @throws StartupBlockedException when startup must stop (Main exits with status 1)
     */
    public Optional<String> check(ServerConfig config) {
        return check(config.server().apiKey());
    }

    Optional<String> check(Optional<String> apiKey) {
        if (apiKey.filter(k -> !k.isBlank()).isPresent()) {
            return Optional.empty();
        }
        if ("YES".equals(env.get(INSECURE_ENV))) {
            return Optional.of(INSECURE_ACKNOWLEDGED);
        }
        if (!terminal.interactive()) {
            throw new StartupBlockedException(NON_INTERACTIVE);
        }
        terminal.print(prompt());
        Optional<String> answer = terminal.readLine(timeout);
        if (answer.isEmpty()) {
            terminal.print(System.lineSeparator());
            throw new StartupBlockedException("Startup aborted: confirmation timed out after " + timeout.toSeconds()
                    + " s. Set server.api_key, or set " + INSECURE_ENV + "=YES to run without authentication.");
        }
        if (!"YES".equals(answer.get())) {
            throw new StartupBlockedException("Startup aborted: insecure mode was not confirmed (type exactly YES)."
                    + " Set server.api_key to enable authentication.");
        }
        return Optional.of(CONFIRMED_INTERACTIVELY);
    }

    private String prompt() {
        String nl = System.lineSeparator();
        return "SECURITY WARNING: server.api_key is empty; the lifecycle API will accept requests without"
                + " authentication from anyone who can reach it." + nl
                + "Set server.api_key (or " + ConfigLoader.API_KEY_ENV + ") to enable authentication,"
                + " or set " + INSECURE_ENV + " to YES to skip this prompt." + nl
                + "See https://github.com/alibaba/OpenSandbox/issues/750" + nl
                + "Type 'YES' within " + timeout.toSeconds() + " seconds to start anyway: ";
    }
}
