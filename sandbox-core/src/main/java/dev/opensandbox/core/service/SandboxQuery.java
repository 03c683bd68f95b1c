package dev.opensandbox.core.service;

import dev.opensandbox.core.MalformedRequestException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.Sandbox;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Filters and paging of {@code GET /sandboxes}.
 *
 * @param states   wanted states, matched case-insensitively and OR-ed; empty means any. An empty
 *                 string matches nothing, as upstream.
 * @param metadata wanted metadata, AND-ed with exact equality; empty means any
 * @param page     from 1 (422 below)
 * @param pageSize 1..200 (422 outside)
 */
public record SandboxQuery(Set<String> states, Map<String, String> metadata, long page, int pageSize) {

    public static final int DEFAULT_PAGE_SIZE = 20;
    public static final int MAX_PAGE_SIZE = 200;

    public SandboxQuery {
        Set<String> lower = new LinkedHashSet<>();
        if (states != null) {
            for (String state : states) {
                lower.add(state.toLowerCase(Locale.ROOT));
            }
        }
        states = Collections.unmodifiableSet(lower);
        metadata = metadata == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        if (page < 1) {
            throw new MalformedRequestException(ErrorCodes.VALIDATION_ERROR,
                "page must be greater than or equal to 1.");
        }
        if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
            throw new MalformedRequestException(ErrorCodes.VALIDATION_ERROR,
                "pageSize must be between 1 and " + MAX_PAGE_SIZE + ".");
        }
    }

    /** Every sandbox, first page of the default size. */
    public static SandboxQuery all() {
        return new SandboxQuery(Set.of(), Map.of(), 1, DEFAULT_PAGE_SIZE);
    }

    boolean matches(Sandbox sandbox) {
        if (!states.isEmpty() && !states.contains(sandbox.status().state().wireName().toLowerCase(Locale.ROOT))) {
            return false;
        }
        for (Map.Entry<String, String> wanted : metadata.entrySet()) {
            if (!wanted.getValue().equals(sandbox.metadata().get(wanted.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
