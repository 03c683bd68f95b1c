package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.MalformedRequestException;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads one JSON object of a request the way upstream's models do: camelCase names with the
 * snake_case names also accepted, explicit nulls equal to absent, unknown fields ignored, and
 * upstream's lax coercions (numeric strings and integral floats for integers, yes/no/1/0 for
 * booleans). Every violation is a 422 naming the field's path.
 */
final class JsonObject {

    private static final Set<String> TRUE_WORDS = Set.of("true", "t", "yes", "y", "on", "1");
    private static final Set<String> FALSE_WORDS = Set.of("false", "f", "no", "n", "off", "0");

    private final JsonNode node;
    private final String path;

    private JsonObject(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    /** Wraps a request body that must be a JSON object. */
    static JsonObject of(JsonNode node, String path) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            throw invalid(path, "Field required");
        }
        if (!node.isObject()) {
            throw invalid(path, "Input should be a valid dictionary or object");
        }
        return new JsonObject(node, path);
    }

    static MalformedRequestException invalid(String path, String message) {
        return new MalformedRequestException(ErrorCodes.VALIDATION_ERROR, path + ": " + message + ".");
    }

    String path() {
        return path;
    }

    /** The field's node under its camelCase name or its snake_case alias; null when absent or null. */
    JsonNode field(String camelName) {
        JsonNode value = node.get(camelName);
        if (value == null || value.isNull()) {
            String snake = toSnake(camelName);
            if (!snake.equals(camelName)) {
                JsonNode alias = node.get(snake);
                if (alias != null && !alias.isNull()) {
                    return alias;
                }
            }
            return null;
        }
        return value;
    }

    String at(String camelName) {
        return path + "." + camelName;
    }

    String string(String name) {
        JsonNode value = field(name);
        if (value == null) {
            return null;
        }
        if (!value.isTextual()) {
            throw invalid(at(name), "Input should be a valid string");
        }
        return value.textValue();
    }

    String requiredString(String name) {
        String value = string(name);
        if (value == null) {
            throw invalid(at(name), "Field required");
        }
        return value;
    }

    Long integer(String name) {
        JsonNode value = field(name);
        return value == null ? null : toInteger(value, at(name));
    }

    static Long toInteger(JsonNode value, String path) {
        try {
            if (value.isIntegralNumber()) {
                if (!value.canConvertToLong()) {
                    // longValue() would keep the low 64 bits: 2^64 + 100 must not read as 100.
                    throw invalid(path, "Input should be a valid integer, the number is outside the 64-bit range");
                }
                return value.longValue();
            }
            if (value.isNumber()) {
                BigDecimal decimal = value.decimalValue();
                if (decimal.stripTrailingZeros().scale() > 0) {
                    throw invalid(path, "Input should be a valid integer, got a number with a fractional part");
                }
                return decimal.longValueExact();
            }
            if (value.isTextual()) {
                return new BigDecimal(value.textValue().trim()).longValueExact();
            }
        } catch (NumberFormatException | ArithmeticException e) {
            throw invalid(path, "Input should be a valid integer");
        }
        throw invalid(path, "Input should be a valid integer");
    }

    Boolean bool(String name) {
        JsonNode value = field(name);
        return value == null ? null : toBoolean(value, at(name));
    }

    static Boolean toBoolean(JsonNode value, String path) {
        if (value.isBoolean()) {
            return value.booleanValue();
        }
        if (value.isTextual() || value.isIntegralNumber()) {
            String word = value.asText().trim().toLowerCase(Locale.ROOT);
            if (TRUE_WORDS.contains(word)) {
                return true;
            }
            if (FALSE_WORDS.contains(word)) {
                return false;
            }
        }
        throw invalid(path, "Input should be a valid boolean");
    }

    JsonObject object(String name) {
        JsonNode value = field(name);
        return value == null ? null : of(value, at(name));
    }

    /** A map whose values must be strings; a null value is an error unless {@code nullsAllowed}. */
    Map<String, String> stringMap(String name, boolean nullsAllowed) {
        JsonNode value = field(name);
        if (value == null) {
            return null;
        }
        if (!value.isObject()) {
            throw invalid(at(name), "Input should be a valid dictionary");
        }
        Map<String, String> map = new LinkedHashMap<>();
        var fields = value.fields();
        while (fields.hasNext()) {
            var entry = fields.next();
            JsonNode v = entry.getValue();
            if (v.isNull()) {
                if (!nullsAllowed) {
                    throw invalid(at(name) + "." + entry.getKey(), "Input should be a valid string");
                }
                map.put(entry.getKey(), null);
            } else if (v.isTextual()) {
                map.put(entry.getKey(), v.textValue());
            } else {
                throw invalid(at(name) + "." + entry.getKey(), "Input should be a valid string");
            }
        }
        return map;
    }

    List<String> stringList(String name) {
        return list(name, (item) -> {
            if (!item.node().isTextual()) {
                throw invalid(item.path(), "Input should be a valid string");
            }
            return item.node().textValue();
        });
    }

    /** A node with its path, for list elements. */
    record Element(JsonNode node, String path) {
    }

    <T> List<T> list(String name, Function<Element, T> reader) {
        JsonNode value = field(name);
        if (value == null) {
            return null;
        }
        if (!value.isArray()) {
            throw invalid(at(name), "Input should be a valid list");
        }
        List<T> items = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            items.add(reader.apply(new Element(value.get(i), at(name) + "[" + i + "]")));
        }
        return items;
    }

    static String toSnake(String camel) {
        StringBuilder out = new StringBuilder(camel.length() + 4);
        for (char c : camel.toCharArray()) {
            if (Character.isUpperCase(c)) {
                out.append('_').append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
