package dev.opensandbox.server.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Range and presence checks used by the section records' compact constructors. */
final class Check {
    private Check() {
    }

    static <T> T notNull(String key, T value) {
        if (value == null) {
            throw ConfigException.at(key, "must be set");
        }
        return value;
    }

    static long between(String key, long value, long min, long max) {
        if (value < min || value > max) {
            throw ConfigException.at(key, "must be between " + min + " and " + max + " (got " + value + ")");
        }
        return value;
    }

    static long atLeast(String key, long value, long min) {
        if (value < min) {
            throw ConfigException.at(key, "must be at least " + min + " (got " + value + ")");
        }
        return value;
    }

    static double atLeast(String key, double value, double min) {
        if (Double.isNaN(value) || value < min) {
            throw ConfigException.at(key, "must be at least " + min + " (got " + value + ")");
        }
        return value;
    }

    static double positive(String key, double value) {
        if (Double.isNaN(value) || value <= 0) {
            throw ConfigException.at(key, "must be greater than 0 (got " + value + ")");
        }
        return value;
    }

    /** Whole seconds, at least {@code min}. */
    static Duration seconds(String key, Duration value, long min) {
        notNull(key, value);
        atLeast(key, value.toSeconds(), min);
        return value;
    }

    static String notBlank(String key, String value) {
        notNull(key, value);
        if (value.isBlank()) {
            throw ConfigException.at(key, "must not be empty");
        }
        return value;
    }

    static String oneOf(String key, String value, List<String> allowed) {
        notNull(key, value);
        if (!allowed.contains(value)) {
            throw ConfigException.at(key, "must be one of " + quoted(allowed) + " (got \"" + value + "\")");
        }
        return value;
    }

    static List<String> strings(String key, List<String> values) {
        notNull(key, values);
        values.forEach(v -> Objects.requireNonNull(v, key));
        return List.copyOf(values);
    }

    static Map<String, String> stringMap(String key, Map<String, String> values) {
        notNull(key, values);
        return Map.copyOf(values);
    }

    static String quoted(List<String> values) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                sb.append(i == values.size() - 1 ? " or " : ", ");
            }
            sb.append('"').append(values.get(i)).append('"');
        }
        return sb.toString();
    }
}
