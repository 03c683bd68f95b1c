package dev.opensandbox.it.reliability;

/**
 * How big the reliability suites run. CI runs the small counts of {@code ./mvnw -B verify}; the
 * profile {@code reliability-full} sets {@code -Dreliability.full=true} for the counts issue 11
 * asks for; any single count can be set with {@code -Dreliability.<name>=<n>}.
 */
public final class Scale {

    /** True under the {@code reliability-full} profile. */
    public static final boolean FULL = Boolean.getBoolean("reliability.full");

    private Scale() {
    }

    /** {@code -Dreliability.<name>}, else {@code full} under the profile, else {@code small}. */
    public static int count(String name, int small, int full) {
        return Integer.getInteger("reliability." + name, FULL ? full : small);
    }

    /** "small" or "full", for the summary lines. */
    public static String label() {
        return FULL ? "full" : "small";
    }
}
