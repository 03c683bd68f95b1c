package dev.opensandbox.core;

import java.util.Locale;

/**
 * Which named values are secrets that diagnostics and logs must never show: upstream masks
 * environment variables whose name holds SECRET, TOKEN, PASSWORD or KEY; this project applies the
 * same rule to labels and annotations too (upstream printed the egress token label in clear).
 */
public final class Secrets {

    /** What a masked value is replaced with. */
    public static final String MASK = "***";

    private Secrets() {
    }

    public static boolean isSecretName(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        return upper.contains("SECRET") || upper.contains("TOKEN") || upper.contains("PASSWORD") || upper.contains("KEY");
    }

    /** The value, or {@link #MASK} when the name marks it as a secret (an empty value stays empty). */
    public static String mask(String name, String value) {
        return value != null && !value.isEmpty() && isSecretName(name) ? MASK : value;
    }
}
