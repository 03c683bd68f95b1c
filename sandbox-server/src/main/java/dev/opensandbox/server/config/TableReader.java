package dev.opensandbox.server.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Typed, loose-as-upstream reads of one raw TOML table, remembering which keys were read so that
 * the rest can be reported as unknown.
 *
 * <p>Type rules: integers accept TOML integers, integral floats ({@code 9000.0}) and numeric strings
 * ({@code "9000"}); floats also accept integers and numeric strings; booleans accept only {@code
 * true}/{@code false} (not 0/1 or "yes"); strings are strict.
 */
final class TableReader {
    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern DECIMAL = Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");

    private final String path;
    private final Map<String, Object> values;
    private final Set<String> read = new HashSet<>();
    private final Map<String, List<TableReader>> children = new LinkedHashMap<>();

    TableReader(String path, Map<String, Object> values) {
        this.path = path;
        this.values = values;
    }

    static TableReader empty(String path) {
        return new TableReader(path, Map.of());
    }

    String key(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    /** Marks keys as known without reading them (legacy keys accepted quietly). */
    void ignore(String... names) {
        read.addAll(List.of(names));
    }

    /** Dotted keys of this table and of the sub-tables read through it that nobody read. */
    List<String> unreadKeys() {
        List<String> unread = new ArrayList<>();
        for (String name : values.keySet()) {
            if (!read.contains(name)) {
                unread.add(key(name));
            }
            for (TableReader child : children.getOrDefault(name, List.of())) {
                unread.addAll(child.unreadKeys());
            }
        }
        return unread;
    }

    private TableReader child(String name, Map<String, Object> childValues) {
        TableReader reader = new TableReader(key(name), childValues);
        children.computeIfAbsent(name, n -> new ArrayList<>()).add(reader);
        return reader;
    }

    private Object raw(String name) {
        read.add(name);
        return values.get(name);
    }

    Optional<String> optString(String name) {
        Object v = raw(name);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof String)) {
            throw wrongType(name, "a string", v);
        }
        return Optional.of((String) v);
    }

    String string(String name, String defaultValue) {
        return optString(name).orElse(defaultValue);
    }

    Optional<Long> optLong(String name) {
        Object v = raw(name);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Long) {
            return Optional.of((Long) v);
        }
        if (v instanceof Double) {
            double d = (Double) v;
            if (Double.isFinite(d) && d == Math.rint(d) && Math.abs(d) < 9.0e15) {
                return Optional.of((long) d);
            }
            throw ConfigException.at(key(name), "must be a whole number (got " + v + ")");
        }
        if (v instanceof String && INTEGER.matcher(((String) v).strip()).matches()) {
            try {
                return Optional.of(Long.parseLong(((String) v).strip()));
            } catch (NumberFormatException e) {
                throw ConfigException.at(key(name), "is out of range (got \"" + v + "\")");
            }
        }
        throw wrongType(name, "an integer", v);
    }

    long longValue(String name, long defaultValue) {
        return optLong(name).orElse(defaultValue);
    }

    int intValue(String name, int defaultValue) {
        long v = longValue(name, defaultValue);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw ConfigException.at(key(name), "is out of range (got " + v + ")");
        }
        return (int) v;
    }

    Duration seconds(String name, long defaultSeconds) {
        return Duration.ofSeconds(longValue(name, defaultSeconds));
    }

    Optional<Double> optDouble(String name) {
        Object v = raw(name);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Long) {
            return Optional.of(((Long) v).doubleValue());
        }
        if (v instanceof Double && Double.isFinite((Double) v)) {
            return Optional.of((Double) v);
        }
        if (v instanceof String && DECIMAL.matcher(((String) v).strip()).matches()) {
            return Optional.of(Double.parseDouble(((String) v).strip()));
        }
        throw wrongType(name, "a finite number", v);
    }

    double doubleValue(String name, double defaultValue) {
        return optDouble(name).orElse(defaultValue);
    }

    /** Fractional seconds (e.g. 0.5) as a Duration. */
    Duration fractionalSeconds(String name, double defaultSeconds) {
        double s = doubleValue(name, defaultSeconds);
        if (Math.abs(s) > 1.0e12) {
            throw ConfigException.at(key(name), "is out of range (got " + s + ")");
        }
        return Duration.ofNanos(new BigDecimal(Double.toString(s)).movePointRight(9).longValue());
    }

    boolean bool(String name, boolean defaultValue) {
        Object v = raw(name);
        if (v == null) {
            return defaultValue;
        }
        if (!(v instanceof Boolean)) {
            throw wrongType(name, "true or false", v);
        }
        return (Boolean) v;
    }

    Optional<List<String>> optStringList(String name) {
        Object v = raw(name);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof List)) {
            throw wrongType(name, "an array of strings", v);
        }
        List<String> out = new ArrayList<>();
        for (Object item : (List<?>) v) {
            if (!(item instanceof String)) {
                throw wrongType(name, "an array of strings", item);
            }
            out.add((String) item);
        }
        return Optional.of(out);
    }

    /** A string-to-string table, such as {@code limits = { cpu = "100m" }}. */
    Optional<Map<String, String>> optStringMap(String name) {
        Optional<TableReader> table = optTable(name);
        if (table.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : table.get().values.keySet()) {
            out.put(k, table.get().optString(k).orElseThrow());
        }
        return Optional.of(out);
    }

    @SuppressWarnings("unchecked")
    Optional<TableReader> optTable(String name) {
        Object v = raw(name);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof Map)) {
            throw wrongType(name, "a table", v);
        }
        return Optional.of(child(name, (Map<String, Object>) v));
    }

    @SuppressWarnings("unchecked")
    Optional<List<TableReader>> optTableArray(String name) {
        Object v = raw(name);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof List)) {
            throw wrongType(name, "an array of tables", v);
        }
        List<TableReader> out = new ArrayList<>();
        for (Object item : (List<?>) v) {
            if (!(item instanceof Map)) {
                throw wrongType(name, "an array of tables", item);
            }
            out.add(child(name, (Map<String, Object>) item));
        }
        return Optional.of(out);
    }

    private ConfigException wrongType(String name, String expected, Object actual) {
        return ConfigException.at(key(name), "must be " + expected + " (got " + describe(actual) + ")");
    }

    static String describe(Object value) {
        if (value instanceof String) {
            return "string \"" + value + "\"";
        }
        if (value instanceof Long) {
            return "integer " + value;
        }
        if (value instanceof Double) {
            return "float " + value;
        }
        if (value instanceof Boolean) {
            return "boolean " + value;
        }
        if (value instanceof Map) {
            return "a table";
        }
        if (value instanceof List) {
            return "an array";
        }
        return value.getClass().getSimpleName() + " " + value;
    }
}
