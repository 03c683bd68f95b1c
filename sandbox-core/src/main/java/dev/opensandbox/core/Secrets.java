package dev.opensandbox.core;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which named values are secrets that diagnostics and logs must never show. Labels and
 * annotations are masked by name: upstream masks environment variables whose name holds SECRET,
 * TOKEN, PASSWORD or KEY, and this project applies that rule to labels and annotations too
 * (upstream printed the egress token label in clear). Environment values are masked unless their
 * name is on an explicit allow-list ({@link #DEFAULT_VISIBLE_ENV} unless configured): names such as
 * {@code MY_PASSWD}, {@code GH_PAT}, {@code DATABASE_URL} or {@code CREDENTIALS} hold secrets that
 * no name heuristic recognises.
 */
public final class Secrets {

    /** What a masked value is replaced with. */
    public static final String MASK = "***";

    /** Environment variables whose values diagnostics show when no allow-list is configured: none of them is a secret. */
    public static final List<String> DEFAULT_VISIBLE_ENV = List.of("PATH", "HOME", "HOSTNAME", "LANG", "LANGUAGE",
        "LC_ALL", "TERM", "TZ", "PWD", "SHELL", "USER");

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

    /**
     * An environment value as diagnostics may show it: the value when its name is on the
     * allow-list (exact, case-sensitive, as environment names are), else {@link #MASK}; an empty
     * value stays empty.
     */
    public static String maskEnv(String name, String value, Set<String> visible) {
        return value == null || value.isEmpty() || visible.contains(name) ? value : MASK;
    }
}
