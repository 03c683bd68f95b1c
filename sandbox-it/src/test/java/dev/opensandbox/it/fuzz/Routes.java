package dev.opensandbox.it.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every route the fuzzer knows, with what a valid request to it looks like: the lifecycle routes
 * as {@code ApiServer} registers them (the completeness test compares this list with the running
 * server's), the reverse proxy, and the built-in execd API under
 * {@code /sandboxes/{sandboxId}/proxy/44772/} (execd-api.yaml).
 */
final class Routes {

    /** What a path parameter names, and so which fixture tokens and hostile values fill it. */
    enum Param { SANDBOX, PORT, SNAPSHOT, POOL, PROXY_PATH, SESSION, COMMAND }

    /** Which sandbox a route may act on: stable fixtures only when it cannot change them. */
    enum Effect {
        /** reads, or changes nothing the fixtures depend on */
        SAFE,
        /** deletes, pauses or resumes: only the scratch sandbox (or a bad id) */
        LIFECYCLE,
        /** deletes a snapshot: only the scratch snapshot (or a bad id) */
        SNAPSHOT_DELETE,
        /** changes files: only the scratch sandbox, paths below /tmp/fuzz */
        FILES
    }

    /**
     * One route.
     *
     * @param method   the method it is registered for
     * @param template the path as the server registers it, without prefix; {@code {x}} path parameters
     * @param root     served at {@code /} only (no {@code /v1} twin)
     * @param body     the name of its body template in {@link Bodies}, or null
     * @param query    its query parameters with the kind of value each takes
     * @param effect   which fixtures it may be pointed at
     */
    record Route(String method, String template, boolean root, String body, Map<String, QueryKind> query, Effect effect) {

        boolean execd() {
            return template.startsWith(EXECD);
        }

        boolean proxy() {
            return template.contains("/proxy/{port}");
        }

        /** The path parameters in the template. */
        List<Param> params() {
            List<Param> found = new ArrayList<>();
            Map.of("{sandboxId}", Param.SANDBOX, "{port}", Param.PORT, "{snapshotId}", Param.SNAPSHOT, "{poolName}", Param.POOL,
                "{sessionId}", Param.SESSION, "{commandId}", Param.COMMAND, "<path>", Param.PROXY_PATH)
                .forEach((token, param) -> {
                    if (template.contains(token)) {
                        found.add(param);
                    }
                });
            found.sort(null);
            return found;
        }

        @Override
        public String toString() {
            return method + " " + template;
        }
    }

    /** The value family a query parameter takes. */
    enum QueryKind { NUMBER, SINCE, BOOLEAN, STATE, METADATA, SANDBOX_ID, READ_PATH, WRITE_PATH, TEXT, COMMAND_ID }

    static final String EXECD = "/sandboxes/{sandboxId}/proxy/44772/";

    static final List<Route> LIFECYCLE = List.of(
        new Route("GET", "/health", true, null, Map.of(), Effect.SAFE),
        new Route("GET", "/openapi.json", true, null, Map.of(), Effect.SAFE),
        new Route("POST", "/sandboxes", false, "create", Map.of(), Effect.SAFE),
        new Route("GET", "/sandboxes", false, null, Map.of("state", QueryKind.STATE, "metadata", QueryKind.METADATA,
            "page", QueryKind.NUMBER, "pageSize", QueryKind.NUMBER), Effect.SAFE),
        new Route("GET", "/sandboxes/{sandboxId}", false, null, Map.of(), Effect.SAFE),
        new Route("DELETE", "/sandboxes/{sandboxId}", false, null, Map.of(), Effect.LIFECYCLE),
        new Route("PATCH", "/sandboxes/{sandboxId}/metadata", false, "metadata", Map.of(), Effect.SAFE),
        new Route("POST", "/sandboxes/{sandboxId}/pause", false, null, Map.of(), Effect.LIFECYCLE),
        new Route("POST", "/sandboxes/{sandboxId}/resume", false, null, Map.of(), Effect.LIFECYCLE),
        new Route("POST", "/sandboxes/{sandboxId}/renew-expiration", false, "renew", Map.of(), Effect.SAFE),
        new Route("GET", "/sandboxes/{sandboxId}/endpoints/{port}", false, null,
            Map.of("use_server_proxy", QueryKind.BOOLEAN, "expires", QueryKind.NUMBER), Effect.SAFE),
        new Route("POST", "/sandboxes/{sandboxId}/snapshots", false, "snapshot", Map.of(), Effect.SAFE),
        new Route("GET", "/snapshots", false, null, Map.of("sandboxId", QueryKind.SANDBOX_ID, "state", QueryKind.STATE,
            "page", QueryKind.NUMBER, "pageSize", QueryKind.NUMBER), Effect.SAFE),
        new Route("GET", "/snapshots/{snapshotId}", false, null, Map.of(), Effect.SAFE),
        new Route("DELETE", "/snapshots/{snapshotId}", false, null, Map.of(), Effect.SNAPSHOT_DELETE),
        new Route("GET", "/sandboxes/{sandboxId}/diagnostics/logs", false, null,
            Map.of("tail", QueryKind.NUMBER, "since", QueryKind.SINCE, "scope", QueryKind.TEXT), Effect.SAFE),
        new Route("GET", "/sandboxes/{sandboxId}/diagnostics/events", false, null,
            Map.of("limit", QueryKind.NUMBER, "scope", QueryKind.TEXT), Effect.SAFE),
        new Route("GET", "/sandboxes/{sandboxId}/diagnostics/inspect", false, null, Map.of(), Effect.SAFE),
        new Route("GET", "/sandboxes/{sandboxId}/diagnostics/summary", false, null,
            Map.of("tail", QueryKind.NUMBER, "event_limit", QueryKind.NUMBER), Effect.SAFE),
        new Route("POST", "/pools", false, "pool", Map.of(), Effect.SAFE),
        new Route("GET", "/pools", false, null, Map.of(), Effect.SAFE),
        new Route("GET", "/pools/{poolName}", false, null, Map.of(), Effect.SAFE),
        new Route("PUT", "/pools/{poolName}", false, "capacity", Map.of(), Effect.SAFE),
        new Route("DELETE", "/pools/{poolName}", false, null, Map.of(), Effect.SAFE));

    static final List<String> PROXY_METHODS = List.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS");

    static final List<Route> PROXY;

    static {
        List<Route> proxy = new ArrayList<>();
        for (String shape : List.of("/sandboxes/{sandboxId}/proxy/{port}", "/sandboxes/{sandboxId}/proxy/{port}/<path>")) {
            for (String method : PROXY_METHODS) {
                proxy.add(new Route(method, shape, false, method.equals("GET") || method.equals("HEAD") ? null : "any",
                    Map.of("q", QueryKind.TEXT), Effect.SAFE));
            }
        }
        PROXY = List.copyOf(proxy);
    }

    static final List<Route> EXECD_ROUTES = List.of(
        new Route("GET", EXECD + "ping", false, null, Map.of(), Effect.SAFE),
        new Route("HEAD", EXECD + "ping", false, null, Map.of(), Effect.SAFE),
        new Route("POST", EXECD + "command", false, "command", Map.of(), Effect.SAFE),
        new Route("GET", EXECD + "command/status/{commandId}", false, null, Map.of(), Effect.SAFE),
        new Route("GET", EXECD + "command/{commandId}/logs", false, null, Map.of("cursor", QueryKind.NUMBER), Effect.SAFE),
        new Route("DELETE", EXECD + "command", false, null, Map.of("id", QueryKind.COMMAND_ID), Effect.SAFE),
        new Route("POST", EXECD + "session", false, "session", Map.of(), Effect.SAFE),
        new Route("POST", EXECD + "session/{sessionId}/run", false, "sessionRun", Map.of(), Effect.SAFE),
        new Route("DELETE", EXECD + "session/{sessionId}", false, null, Map.of(), Effect.SAFE),
        new Route("GET", EXECD + "metrics", false, null, Map.of(), Effect.SAFE),
        new Route("GET", EXECD + "metrics/watch", false, null, Map.of(), Effect.SAFE),
        new Route("GET", EXECD + "files/info", false, null, Map.of("path", QueryKind.READ_PATH), Effect.SAFE),
        new Route("DELETE", EXECD + "files", false, null, Map.of("path", QueryKind.WRITE_PATH), Effect.FILES),
        new Route("POST", EXECD + "files/permissions", false, "permissions", Map.of(), Effect.FILES),
        new Route("POST", EXECD + "files/mv", false, "move", Map.of(), Effect.FILES),
        new Route("GET", EXECD + "files/search", false, null,
            Map.of("path", QueryKind.READ_PATH, "pattern", QueryKind.TEXT), Effect.SAFE),
        new Route("POST", EXECD + "files/replace", false, "replace", Map.of("verbose", QueryKind.BOOLEAN), Effect.FILES),
        new Route("POST", EXECD + "files/upload", false, "upload", Map.of(), Effect.FILES),
        new Route("GET", EXECD + "files/download", false, null, Map.of("path", QueryKind.READ_PATH), Effect.SAFE),
        new Route("GET", EXECD + "directories/list", false, null,
            Map.of("path", QueryKind.READ_PATH, "depth", QueryKind.NUMBER), Effect.SAFE),
        new Route("POST", EXECD + "directories", false, "directories", Map.of(), Effect.FILES),
        new Route("DELETE", EXECD + "directories", false, null, Map.of("path", QueryKind.WRITE_PATH), Effect.FILES),
        new Route("POST", EXECD + "code", false, "any", Map.of(), Effect.SAFE),
        new Route("GET", EXECD + "code/contexts", false, null, Map.of(), Effect.SAFE));

    static final List<Route> ALL;

    static {
        List<Route> all = new ArrayList<>(LIFECYCLE);
        all.addAll(PROXY);
        all.addAll(EXECD_ROUTES);
        ALL = List.copyOf(all);
    }

    /** Lifecycle and proxy routes as {@code ApiServer#routes()} names them ({@code METHOD /path}, both prefixes). */
    static Set<String> asServed() {
        Set<String> served = new TreeSet<>();
        List<Route> registered = new ArrayList<>(LIFECYCLE);
        registered.addAll(PROXY);
        for (Route route : registered) {
            served.add(route.method() + " " + route.template());
            if (!route.root()) {
                served.add(route.method() + " /v1" + route.template());
            }
        }
        return served;
    }

    private static final List<java.util.Map.Entry<java.util.regex.Pattern, Route>> MATCHERS;

    static {
        List<java.util.Map.Entry<java.util.regex.Pattern, Route>> matchers = new ArrayList<>();
        List<Route> ordered = new ArrayList<>(EXECD_ROUTES);
        ordered.addAll(LIFECYCLE);
        ordered.addAll(PROXY);
        for (Route route : ordered) {
            String regex = java.util.regex.Pattern.quote(route.template())
                .replaceAll("\\{[a-zA-Z]+}", "\\\\E[^/]*\\\\Q")
                .replace("<path>", "\\E.*\\Q");
            matchers.add(Map.entry(java.util.regex.Pattern.compile("^(?:/v1)?" + regex + "/?$", java.util.regex.Pattern.DOTALL),
                route));
        }
        MATCHERS = List.copyOf(matchers);
    }

    /** The route a request path and method fall on, as {@code METHOD template}; for grouping failures. */
    static String routeOf(String method, String path) {
        for (Map.Entry<java.util.regex.Pattern, Route> matcher : MATCHERS) {
            if (matcher.getValue().method().equals(method) && matcher.getKey().matcher(path).matches()) {
                return matcher.getValue().toString();
            }
        }
        for (Map.Entry<java.util.regex.Pattern, Route> matcher : MATCHERS) {
            if (matcher.getKey().matcher(path).matches()) {
                return method + " " + matcher.getValue().template() + " (method not routed there)";
            }
        }
        return method + " (no route)";
    }

    private Routes() {
    }
}
