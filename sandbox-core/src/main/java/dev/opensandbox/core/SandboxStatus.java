package dev.opensandbox.core;

import java.time.Instant;
import java.util.Objects;

/**
 * What a sandbox is doing, as reported to clients.
 *
 * @param state            the lifecycle state
 * @param reason           a machine-readable reason such as {@code CONTAINER_RUNNING}, or null
 * @param message          a human-readable sentence, or null
 * @param lastTransitionAt when the state last changed, or null when unknown
 */
public record SandboxStatus(SandboxState state, String reason, String message, Instant lastTransitionAt) {

    public SandboxStatus {
        Objects.requireNonNull(state, "state");
    }

    public static SandboxStatus of(SandboxState state) {
        return new SandboxStatus(state, null, null, null);
    }

    public SandboxStatus withLastTransitionAt(Instant at) {
        return new SandboxStatus(state, reason, message, at);
    }

    public SandboxStatus withMessage(String newMessage) {
        return new SandboxStatus(state, reason, newMessage, lastTransitionAt);
    }
}
