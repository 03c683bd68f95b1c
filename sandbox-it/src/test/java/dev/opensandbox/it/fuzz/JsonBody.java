package dev.opensandbox.it.fuzz;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A valid JSON body and structured mutations of it. A mutation replaces the value at a JSON
 * pointer with raw JSON text (which need not be valid JSON: {@code NaN}, 5,000 nested arrays),
 * removes it, or adds a field whose raw key may repeat an existing one (duplicate keys) or be
 * empty. Raw text is spliced in after serialising, through placeholders, so the result is
 * exactly the bytes a hostile client would send.
 */
final class JsonBody {

    private static final ObjectMapper JSON = new ObjectMapper();

    enum Kind { REPLACE, REMOVE, ADD_FIELD }

    /**
     * One change to the body.
     *
     * @param pointer where: the value to replace or remove, or the object a field is added to
     * @param key     for {@link Kind#ADD_FIELD}: the field's name as raw JSON text (quoted)
     * @param raw     the new value as raw JSON text; unused for {@link Kind#REMOVE}
     */
    record Mutation(Kind kind, String pointer, String key, String raw) {
        @Override
        public String toString() {
            String shownRaw = raw == null ? "" : raw.length() > 80 ? raw.substring(0, 80) + "...(" + raw.length() + " chars)" : raw;
            return switch (kind) {
                case REMOVE -> "remove " + pointer;
                case REPLACE -> "set " + pointer + " = " + shownRaw;
                case ADD_FIELD -> "add " + (key.length() > 80 ? key.substring(0, 80) + "..." : key) + ":" + shownRaw
                    + " to " + pointer;
            };
        }
    }

    private JsonBody() {
    }

    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    /** The pointers of every value in {@code node}, the root ({@code ""}) included, in document order. */
    static List<String> pointers(JsonNode node) {
        List<String> out = new ArrayList<>();
        collect(node, "", out);
        return out;
    }

    /** The pointers of every object in {@code node}: where fields can be added. */
    static List<String> objectPointers(JsonNode node) {
        List<String> out = new ArrayList<>();
        for (String pointer : pointers(node)) {
            if (node.at(pointer).isObject()) {
                out.add(pointer);
            }
        }
        return out;
    }

    private static void collect(JsonNode node, String pointer, List<String> out) {
        out.add(pointer);
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                collect(field.getValue(), pointer + "/" + field.getKey().replace("~", "~0").replace("/", "~1"), out);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                collect(node.get(i), pointer + "/" + i, out);
            }
        }
    }

    /** The template with the mutations applied, serialised; mutations whose place no longer exists are skipped. */
    static String apply(JsonNode template, List<Mutation> mutations) {
        JsonNode root = template.deepCopy();
        Map<String, String> splices = new LinkedHashMap<>();
        for (Mutation mutation : mutations) {
            if (root == null) {
                break;
            }
            String placeholder = "@@fuzz-" + splices.size() + "@@";
            switch (mutation.kind()) {
                case REPLACE -> {
                    if (mutation.pointer().isEmpty()) {
                        root = TextNode.valueOf(placeholder);
                        splices.put(quoted(placeholder), mutation.raw());
                    } else if (set(root, mutation.pointer(), TextNode.valueOf(placeholder))) {
                        splices.put(quoted(placeholder), mutation.raw());
                    }
                }
                case REMOVE -> {
                    if (mutation.pointer().isEmpty()) {
                        root = null;
                    } else {
                        remove(root, mutation.pointer());
                    }
                }
                case ADD_FIELD -> {
                    JsonNode target = root == null ? null : root.at(mutation.pointer());
                    if (target instanceof ObjectNode object) {
                        String keyHolder = "@@fuzz-key-" + splices.size() + "@@";
                        object.set(keyHolder, TextNode.valueOf(placeholder));
                        splices.put(quoted(keyHolder), mutation.key());
                        splices.put(quoted(placeholder), mutation.raw());
                    }
                }
            }
        }
        if (root == null) {
            return "";
        }
        String text;
        try {
            text = JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        for (Map.Entry<String, String> splice : splices.entrySet()) {
            text = text.replace(splice.getKey(), splice.getValue());
        }
        return text;
    }

    private static String quoted(String placeholder) {
        return "\"" + placeholder + "\"";
    }

    private static boolean set(JsonNode root, String pointer, JsonNode value) {
        int slash = pointer.lastIndexOf('/');
        JsonNode parent = root.at(pointer.substring(0, slash));
        String last = unescape(pointer.substring(slash + 1));
        if (parent instanceof ObjectNode object) {
            object.set(last, value);
            return true;
        }
        if (parent instanceof ArrayNode array && last.matches("\\d+") && Integer.parseInt(last) < array.size()) {
            array.set(Integer.parseInt(last), value);
            return true;
        }
        return false;
    }

    private static void remove(JsonNode root, String pointer) {
        int slash = pointer.lastIndexOf('/');
        JsonNode parent = root.at(pointer.substring(0, slash));
        String last = unescape(pointer.substring(slash + 1));
        if (parent instanceof ObjectNode object) {
            object.remove(last);
        } else if (parent instanceof ArrayNode array && last.matches("\\d+") && Integer.parseInt(last) < array.size()) {
            array.remove(Integer.parseInt(last));
        }
    }

    private static String unescape(String token) {
        return token.replace("~1", "/").replace("~0", "~");
    }
}
