package dev.opensandbox.core;

import java.util.Locale;
import java.util.Optional;

/**
 * The lifecycle states a sandbox can report. The wire form is {@link #wireName()}.
 *
 * <p>{@code Allocated} is not listed: upstream leaks it from Kubernetes reads, and this project
 * reports it as {@link #RUNNING} instead.
 */
public enum SandboxState {
    PENDING("Pending"),
    RUNNING("Running"),
    PAUSING("Pausing"),
    PAUSED("Paused"),
    RESUMING("Resuming"),
    STOPPING("Stopping"),
    TERMINATED("Terminated"),
    FAILED("Failed"),
    UNKNOWN("Unknown");

    private final String wireName;

    SandboxState(String wireName) {
        this.wireName = wireName;
    }

    /** The name clients see, for example {@code Running}. */
    public String wireName() {
        return wireName;
    }

    /** Finds a state by its wire name, ignoring case. */
    public static Optional<SandboxState> fromWireName(String name) {
        if (name == null) {
            return Optional.empty();
        }
        String lower = name.toLowerCase(Locale.ROOT);
        for (SandboxState state : values()) {
            if (state.wireName.toLowerCase(Locale.ROOT).equals(lower)) {
                return Optional.of(state);
            }
        }
        return Optional.empty();
    }

    /** True for states a sandbox never leaves by itself. */
    public boolean isFinal() {
        return this == TERMINATED || this == FAILED;
    }
}
