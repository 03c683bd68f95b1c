package dev.opensandbox.server.store;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough JSON for the two JSON columns of the store: {@code restore_config} (upstream's,
 * {@code {"image": ...}}) and {@code sandboxes.metadata} (a flat object of strings).
 *
 * <p>Hand-written so that the store needs no JSON library and so that the output is byte-for-byte
 * what Python's {@code json.dumps(..., sort_keys=True)} writes with its defaults: {@code ", "} and
 * {@code ": "} separators and {@code ensure_ascii}, i.e. every character outside printable ASCII
 * escaped as a lowercase {@code \\uXXXX}. Escaping all non-ASCII also keeps strings lossless
 * (a lone surrogate survives, where a UTF-8 round trip through SQLite would mangle it).
 *
 * <p>The reader accepts any JSON value so that rows written by other versions, with keys this
 * version does not know, still load.
 */
final class TinyJson {

    private TinyJson() {
    }

    /** {@code {"image": "<image>"}} or {@code {"image": null}}, exactly as upstream writes it. */
    static String writeRestoreConfig(String image) {
        StringBuilder out = new StringBuilder(32).append("{\"image\": ");
        if (image == null) {
            out.append("null");
        } else {
            appendString(out, image);
        }
        return out.append('}').toString();
    }

    /**
     * The {@code "image"} of a restore config, or null when it is absent, null or not a string.
     * Other keys are ignored.
     *
     * @throws IllegalArgumentException when {@code json} is not a JSON object
     */
    static String readRestoreImage(String json) {
        Object value = parse(json);
        if (!(value instanceof Map<?, ?> object)) {
            throw new IllegalArgumentException("restore_config is not a JSON object");
        }
        return object.get("image") instanceof String image ? image : null;
    }

    /** A JSON object of strings, in the map's iteration order. */
    static String writeStringMap(Map<String, String> map) {
        StringBuilder out = new StringBuilder(16 + map.size() * 32).append('{');
        boolean first = true;
        for (Map.Entry<String, String> entry : map.entrySet()) {
            if (!first) {
                out.append(", ");
            }
            first = false;
            appendString(out, entry.getKey());
            out.append(": ");
            appendString(out, entry.getValue());
        }
        return out.append('}').toString();
    }

    /**
     * Reads a JSON object whose values are all strings, keeping the order of its keys.
     *
     * @throws IllegalArgumentException when {@code json} is not such an object
     */
    static Map<String, String> readStringMap(String json) {
        Object value = parse(json);
        if (!(value instanceof Map<?, ?> object)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<?, ?> entry : object.entrySet()) {
            if (!(entry.getValue() instanceof String text)) {
                throw new IllegalArgumentException("value of key " + entry.getKey() + " is not a string");
            }
            result.put((String) entry.getKey(), text);
        }
        return result;
    }

    static void appendString(StringBuilder out, String text) {
        if (text == null) {
            // Map.copyOf-style maps reject nulls, but a caller's LinkedHashMap may not.
            throw new IllegalArgumentException("null string in JSON object");
        }
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        out.append("\\u");
                        String hex = Integer.toHexString(c);
                        out.append("0".repeat(4 - hex.length())).append(hex);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /**
     * Parses one JSON value: objects become {@link LinkedHashMap}s, arrays {@link List}s, numbers
     * {@link BigDecimal}s.
     *
     * @throws IllegalArgumentException when {@code json} is not exactly one JSON value
     */
    static Object parse(String json) {
        Parser parser = new Parser(json);
        parser.skipWhitespace();
        Object value = parser.value(0);
        parser.skipWhitespace();
        if (parser.pos != json.length()) {
            throw parser.error("trailing characters");
        }
        return value;
    }

    private static final class Parser {

        /** Deep enough for any sane document, shallow enough that a hostile one cannot overflow the stack. */
        private static final int MAX_DEPTH = 64;

        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nested too deeply");
            }
            if (pos >= text.length()) {
                throw error("unexpected end");
            }
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield number();
                    }
                    throw error("unexpected character '" + c + "'");
                }
            };
        }

        private Map<String, Object> object(int depth) {
            Map<String, Object> result = new LinkedHashMap<>();
            pos++;
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                return result;
            }
            while (true) {
                skipWhitespace();
                if (peek() != '"') {
                    throw error("expected a key");
                }
                String key = string();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                result.put(key, value(depth + 1));
                skipWhitespace();
                char c = next();
                if (c == '}') {
                    return result;
                }
                if (c != ',') {
                    throw error("expected ',' or '}'");
                }
            }
        }

        private List<Object> array(int depth) {
            List<Object> result = new ArrayList<>();
            pos++;
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return result;
            }
            while (true) {
                skipWhitespace();
                result.add(value(depth + 1));
                skipWhitespace();
                char c = next();
                if (c == ']') {
                    return result;
                }
                if (c != ',') {
                    throw error("expected ',' or ']'");
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char escape = next();
                switch (escape) {
                    case '"', '\\', '/' -> out.append(escape);
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'u' -> {
                        if (pos + 4 > text.length()) {
                            throw error("truncated \\u escape");
                        }
                        try {
                            out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException e) {
                            throw error("bad \\u escape");
                        }
                        pos += 4;
                    }
                    default -> throw error("bad escape '\\" + escape + "'");
                }
            }
        }

        private BigDecimal number() {
            int start = pos;
            while (pos < text.length() && "+-0123456789.eE".indexOf(text.charAt(pos)) >= 0) {
                pos++;
            }
            try {
                return new BigDecimal(text.substring(start, pos));
            } catch (NumberFormatException e) {
                throw error("bad number");
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) {
                throw error("expected " + word);
            }
            pos += word.length();
            return value;
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        private char peek() {
            if (pos >= text.length()) {
                throw error("unexpected end");
            }
            return text.charAt(pos);
        }

        private char next() {
            char c = peek();
            pos++;
            return c;
        }

        private void expect(char c) {
            if (next() != c) {
                pos--;
                throw error("expected '" + c + "'");
            }
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("Invalid JSON at offset " + pos + ": " + what);
        }
    }
}
