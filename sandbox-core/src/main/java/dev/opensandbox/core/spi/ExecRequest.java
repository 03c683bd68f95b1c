package dev.opensandbox.core.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A command to run inside a sandbox.
 *
 * @param command    the argv; not interpreted by a shell unless it names one
 * @param env        extra environment variables
 * @param workingDir the working directory, or null for the sandbox default
 * @param user       who runs it, as {@code uid} or {@code uid:gid} (numeric), or null for the
 *                   sandbox's default user
 */
public record ExecRequest(List<String> command, Map<String, String> env, String workingDir, String user) {

    public ExecRequest {
        command = List.copyOf(Objects.requireNonNull(command, "command"));
        if (command.isEmpty()) {
            throw new IllegalArgumentException("command must not be empty");
        }
        env = env == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(env));
        if (user != null && !user.matches("\\d{1,10}(:\\d{1,10})?")) {
            throw new IllegalArgumentException("user must be uid or uid:gid, got " + user);
        }
    }

    /** A command run as the sandbox's default user. */
    public ExecRequest(List<String> command, Map<String, String> env, String workingDir) {
        this(command, env, workingDir, null);
    }

    public static ExecRequest of(String... command) {
        return new ExecRequest(List.of(command), Map.of(), null, null);
    }
}
