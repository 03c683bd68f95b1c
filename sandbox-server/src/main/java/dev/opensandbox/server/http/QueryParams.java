package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.opensandbox.core.InvalidRequestException;
import io.javalin.http.Context;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Query and path parameters with upstream's validation (422 for shape errors). */
final class QueryParams {

    private QueryParams() {
    }

    static Long longParam(Context ctx, String name, long min, long max, Long defaultValue) {
        String raw = ctx.queryParam(name);
        if (raw == null) {
            return defaultValue;
        }
        long value;
        try {
            value = JsonObject.toInteger(TextNode.valueOf(raw), "query." + name);
        } catch (dev.opensandbox.core.MalformedRequestException e) {
            // Python integers are unbounded: a huge page number is valid and just past the end.
            if (raw.trim().matches("\\d{19,}") && max == Long.MAX_VALUE) {
                return Long.MAX_VALUE;
            }
            throw e;
        }
        if (value < min || value > max) {
            throw JsonObject.invalid("query." + name, max == Long.MAX_VALUE
                ? "Input should be greater than or equal to " + min
                : "Input should be between " + min + " and " + max);
        }
        return value;
    }

    static Boolean boolParam(Context ctx, String name) {
        String raw = ctx.queryParam(name);
        return raw == null ? null : JsonObject.toBoolean(TextNode.valueOf(raw), "query." + name);
    }

    static int intPath(Context ctx, String name) {
        try {
            return Integer.parseInt(ctx.pathParam(name));
        } catch (NumberFormatException e) {
            throw JsonObject.invalid("path." + name, "Input should be a valid integer, unable to parse string as an integer");
        }
    }

    /**
     * The {@code metadata} filter: one parameter holding {@code k=v&k2=v2}, decoded a second time
     * as a form (as upstream). Strict: every segment needs an {@code =}.
     */
    static Map<String, String> metadataFilter(String raw) {
        Map<String, String> filter = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return filter;
        }
        for (String segment : raw.split("&", -1)) {
            int eq = segment.indexOf('=');
            if (eq < 0) {
                throw new InvalidRequestException("INVALID_METADATA_FORMAT",
                    "Invalid metadata format: bad query field: '" + segment + "'");
            }
            filter.put(decode(segment.substring(0, eq)), decode(segment.substring(eq + 1)));
        }
        return filter;
    }

    private static String decode(String text) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return text;
        }
    }
}
