package dev.opensandbox.core;

import java.util.Objects;
import java.util.UUID;

/**
 * The identity of a sandbox: a random UUID, written with dashes on the wire.
 *
 * <p>Upstream clients (the Java SDK 1.0.0 in particular) parse sandbox ids as {@link UUID}, so
 * this type accepts nothing else.
 */
public record SandboxId(UUID value) implements Comparable<SandboxId> {

    public SandboxId {
        Objects.requireNonNull(value, "value");
    }

    /** A new random id. */
    public static SandboxId random() {
        return new SandboxId(UUID.randomUUID());
    }

    /**
     * Parses the dashed UUID form.
     *
     * @throws IllegalArgumentException if {@code text} is not a UUID
     */
    public static SandboxId parse(String text) {
        Objects.requireNonNull(text, "text");
        UUID uuid = UUID.fromString(text);
        // UUID.fromString accepts abbreviated groups such as "1-2-3-4-5"; only the canonical form is an id.
        if (!uuid.toString().equalsIgnoreCase(text)) {
            throw new IllegalArgumentException("Not a canonical UUID: " + text);
        }
        return new SandboxId(uuid);
    }

    /** Parses {@code text}, or returns empty when it is not a UUID. */
    public static java.util.Optional<SandboxId> tryParse(String text) {
        try {
            return java.util.Optional.of(parse(text));
        } catch (IllegalArgumentException | NullPointerException e) {
            return java.util.Optional.empty();
        }
    }

    @Override
    public int compareTo(SandboxId other) {
        return value.toString().compareTo(other.value.toString());
    }

    @Override
    public String toString() {
        return value.toString();
    }
}
