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
 */
public record ExecRequest(List<String> command, Map<String, String> env, String workingDir) {

    public ExecRequest {
        command = List.copyOf(Objects.requireNonNull(command, "command"));
        if (command.isEmpty()) {
            throw new IllegalArgumentException("command must not be empty");
        }
        env = env == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(env));
    }

    public static ExecRequest of(String... command) {
        return new ExecRequest(List.of(command), Map.of(), null);
    }
}
