package dev.opensandbox.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The little JSON that label and annotation values and hand-written merge patches need: compact
 * arrays of strings (the format upstream uses for list-valued labels, for example
 * {@code ["sleep","3600"]}), quoted strings, and flat objects of strings whose {@code null}
 * values are kept (RFC 7396 removals). Hand-written so that runtime adapters need no JSON library
 * and every adapter writes the same bytes.
 */
public final class LabelJson {

    private LabelJson() {
    }

    public static String encode(List<String> values) {
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                json.append(',');
            }
            appendString(json, values.get(i));
        }
        return json.append(']').toString();
    }

    /** Decodes an array of strings; empty when {@code text} is not exactly that. */
    public static Optional<List<String>> decode(String text) {
        if (text == null) {
            return Optional.empty();
        }
        try {
            Parser parser = new Parser(text.trim());
            List<String> values = parser.array();
            parser.end();
            return Optional.of(values);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            return Optional.empty();
        }
    }

    public static void appendString(StringBuilder json, String value) {
        json.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                case '\b' -> json.append("\\b");
                case '\f' -> json.append("\\f");
                default -> {
                    if (c < 0x20) {
                        json.append(String.format("\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        json.append('"');
    }

    /** A JSON string literal, or {@code null}. */
    public static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(value.length() + 2);
        appendString(out, value);
        return out.toString();
    }

    /** A flat JSON object of string (or null) values, in the map's order. */
    public static String object(java.util.Map<String, String> values) {
        StringBuilder out = new StringBuilder("{");
        values.forEach((key, value) -> {
            if (out.length() > 1) {
                out.append(',');
            }
            out.append(quote(key)).append(':').append(quote(value));
        });
        return out.append('}').toString();
    }

    private static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        List<String> array() {
            expect('[');
            List<String> values = new ArrayList<>();
            skipSpace();
            if (peek() == ']') {
                pos++;
                return values;
            }
            while (true) {
                skipSpace();
                values.add(string());
                skipSpace();
                char c = text.charAt(pos++);
                if (c == ']') {
                    return values;
                }
                if (c != ',') {
                    throw new IllegalArgumentException("expected , or ]");
                }
            }
        }

        void end() {
            skipSpace();
            if (pos != text.length()) {
                throw new IllegalArgumentException("trailing characters");
            }
        }

        private String string() {
            expect('"');
            StringBuilder value = new StringBuilder();
            while (true) {
                char c = text.charAt(pos++);
                if (c == '"') {
                    return value.toString();
                }
                if (c != '\\') {
                    value.append(c);
                    continue;
                }
                char escaped = text.charAt(pos++);
                switch (escaped) {
                    case '"', '\\', '/' -> value.append(escaped);
                    case 'n' -> value.append('\n');
                    case 'r' -> value.append('\r');
                    case 't' -> value.append('\t');
                    case 'b' -> value.append('\b');
                    case 'f' -> value.append('\f');
                    case 'u' -> {
                        value.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        pos += 4;
                    }
                    default -> throw new IllegalArgumentException("bad escape");
                }
            }
        }

        private void expect(char c) {
            skipSpace();
            if (text.charAt(pos++) != c) {
                throw new IllegalArgumentException("expected " + c);
            }
        }

        private char peek() {
            return text.charAt(pos);
        }

        private void skipSpace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }
    }
}
