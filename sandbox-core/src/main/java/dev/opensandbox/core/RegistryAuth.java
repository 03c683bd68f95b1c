package dev.opensandbox.core;

import java.util.Objects;

/** Credentials for pulling an image from a private registry. Never returned to clients. */
public record RegistryAuth(String username, String password) {

    public RegistryAuth {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
    }

    @Override
    public String toString() {
        return "RegistryAuth[username=" + username + ", password=***]";
    }
}
