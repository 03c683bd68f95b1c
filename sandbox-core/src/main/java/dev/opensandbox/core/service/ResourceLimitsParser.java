package dev.opensandbox.core.service;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.ResourceLimits;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the {@code resourceLimits} map of a create request into {@link ResourceLimits}.
 *
 * <p>Understands {@code memory} ({@code 512Mi}, {@code 1Gi}, {@code 1G}, {@code 512m}, {@code 1024}),
 * {@code cpu} ({@code 500m}, {@code 2}, {@code 0.5}) and {@code gpu} (a positive count or {@code all}).
 * Other keys are kept in {@link ResourceLimits#raw()} only, for runtimes that pass the map through.
 *
 * <p>Upstream logs and ignores a value it cannot parse, so a typo silently yields an unlimited
 * sandbox. This parser answers 400 {@code SANDBOX::INVALID_PARAMETER} instead, on purpose.
 */
public final class ResourceLimitsParser {

    static final String MEMORY = "memory";
    static final String CPU = "cpu";
    static final String GPU = "gpu";

    // Same grammar as upstream's parse_memory_limit, so every value upstream enforces is accepted.
    private static final Pattern MEMORY_PATTERN =
        Pattern.compile("^\\s*(\\d+)([kmgti]i?|[kmgti]?b)?\\s*$", Pattern.CASE_INSENSITIVE);
    // Lower-case "m" only: in Kubernetes quantities "M" means mega, so "500M" cpu is not 0.5 cores.
    private static final Pattern CPU_MILLIS_PATTERN = Pattern.compile("^\\s*(\\d+)m\\s*$");
    private static final Pattern CPU_CORES_PATTERN = Pattern.compile("^\\s*(\\d+(?:\\.\\d+)?|\\.\\d+)\\s*$");
    private static final Pattern GPU_COUNT_PATTERN = Pattern.compile("^\\s*(\\d+)\\s*$");

    private ResourceLimitsParser() {
    }

    /**
     * Parses the limits a client sent.
     *
     * @param raw the {@code resourceLimits} map; null means "no limits"
     * @return the parsed limits, with {@code raw} kept in order
     * @throws InvalidRequestException {@code SANDBOX::INVALID_PARAMETER} naming the key and value that
     *                                 cannot be parsed, is not positive or does not fit in a long
     */
    public static ResourceLimits parse(Map<String, String> raw) {
        if (raw == null) {
            return ResourceLimits.none();
        }
        OptionalLong memory = raw.containsKey(MEMORY) ? OptionalLong.of(parseMemory(raw.get(MEMORY))) : OptionalLong.empty();
        OptionalLong cpu = raw.containsKey(CPU) ? OptionalLong.of(parseCpuMillis(raw.get(CPU))) : OptionalLong.empty();
        OptionalInt gpu = raw.containsKey(GPU) ? OptionalInt.of(parseGpu(raw.get(GPU))) : OptionalInt.empty();
        return new ResourceLimits(raw, memory, cpu, gpu);
    }

    static long parseMemory(String value) {
        String expected = "expected an integer with an optional unit such as 512Mi, 1Gi or 1G.";
        Matcher m = value == null ? null : MEMORY_PATTERN.matcher(value);
        if (m == null || !m.matches()) {
            throw invalid(MEMORY, value, expected);
        }
        long multiplier = memoryMultiplier(m.group(2));
        long bytes;
        try {
            bytes = Math.multiplyExact(Long.parseLong(m.group(1)), multiplier);
        } catch (ArithmeticException | NumberFormatException tooLarge) {
            throw invalid(MEMORY, value, "the value is too large.");
        }
        if (bytes <= 0) {
            throw invalid(MEMORY, value, "must be greater than zero.");
        }
        return bytes;
    }

    private static long memoryMultiplier(String unit) {
        if (unit == null || unit.equalsIgnoreCase("b")) {
            return 1L;
        }
        String u = unit.toLowerCase(Locale.ROOT);
        boolean binary = u.length() == 2 && u.charAt(1) == 'i';
        long base = binary ? 1024L : 1000L;
        int power = "kmgt".indexOf(u.charAt(0)) + 1;
        long result = 1L;
        for (int i = 0; i < power; i++) {
            result *= base;
        }
        return result;
    }

    static long parseCpuMillis(String value) {
        String expected = "expected cores such as 2 or 0.5, or millicores such as 500m.";
        if (value == null) {
            throw invalid(CPU, null, expected);
        }
        long millis;
        Matcher milli = CPU_MILLIS_PATTERN.matcher(value);
        Matcher cores = CPU_CORES_PATTERN.matcher(value);
        try {
            if (milli.matches()) {
                millis = Long.parseLong(milli.group(1));
            } else if (cores.matches()) {
                BigDecimal exact = new BigDecimal(cores.group(1)).movePointRight(3);
                // Rounding "0.0001" to 0m (or "1.0005" to 1000m) would enforce a limit the client
                // never asked for; the runtimes cannot express less than one millicore anyway.
                if (exact.stripTrailingZeros().scale() > 0) {
                    throw invalid(CPU, value, "the finest supported precision is 0.001 cores (1m).");
                }
                millis = exact.longValueExact();
            } else {
                throw invalid(CPU, value, expected);
            }
        } catch (ArithmeticException | NumberFormatException tooLarge) {
            throw invalid(CPU, value, "the value is too large.");
        }
        if (millis <= 0) {
            throw invalid(CPU, value, "must be greater than zero.");
        }
        // nanoCpus() multiplies by 10^6; refuse what would overflow there rather than later.
        if (millis > Long.MAX_VALUE / 1_000_000L) {
            throw invalid(CPU, value, "the value is too large.");
        }
        return millis;
    }

    static int parseGpu(String value) {
        String expected = "expected a positive integer or 'all'.";
        if (value == null) {
            throw invalid(GPU, null, expected);
        }
        if (value.trim().equalsIgnoreCase("all")) {
            return ResourceLimits.ALL_GPUS;
        }
        Matcher m = GPU_COUNT_PATTERN.matcher(value);
        if (!m.matches()) {
            throw invalid(GPU, value, expected);
        }
        int count;
        try {
            count = Integer.parseInt(m.group(1));
        } catch (NumberFormatException tooLarge) {
            throw invalid(GPU, value, "the value is too large.");
        }
        if (count <= 0) {
            throw invalid(GPU, value, expected);
        }
        return count;
    }

    private static InvalidRequestException invalid(String key, String value, String why) {
        return new InvalidRequestException(ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits." + key + " '" + value + "': " + why);
    }
}
