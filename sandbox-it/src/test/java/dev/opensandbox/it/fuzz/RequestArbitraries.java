package dev.opensandbox.it.fuzz;

import dev.opensandbox.it.fuzz.FuzzRequest.Framing;
import dev.opensandbox.it.fuzz.FuzzRequest.Header;
import dev.opensandbox.it.fuzz.JsonBody.Kind;
import dev.opensandbox.it.fuzz.JsonBody.Mutation;
import dev.opensandbox.it.fuzz.Routes.Effect;
import dev.opensandbox.it.fuzz.Routes.QueryKind;
import dev.opensandbox.it.fuzz.Routes.Route;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Generators of requests, one family per property: valid requests with one or two parts made
 * hostile (a body field, a path parameter, a query parameter, a header, the framing, the request
 * line), so that most requests get past the first check and reach the handler they aim at.
 * Sandbox ids are fixture tokens (see {@link FuzzedServer}); routes that delete, pause, resume
 * or change files only ever aim at the scratch sandbox or at ids that name nothing.
 */
final class RequestArbitraries {

    static final String KEY_HEADER = "OPEN-SANDBOX-API-KEY";
    static final String SECURE_HEADER = "OpenSandbox-Secure-Access";

    private final Bodies bodies;
    private final Bodies.Scope scope;

    RequestArbitraries(Bodies.Scope scope) {
        this.scope = scope;
        this.bodies = new Bodies(scope);
    }

    // ------------------------------------------------------------------ families

    /** Lifecycle and execd bodies, each a valid one with one or two fields mutated (or replaced whole). */
    Arbitrary<FuzzRequest> mutatedBodies() {
        List<Route> withBodies = Routes.ALL.stream()
            .filter(r -> r.body() != null && !r.body().equals("any") && !r.body().equals("upload")).toList();
        // The create body has the most fields: it gets as many tries as the other bodies together.
        List<Tuple.Tuple2<Integer, Route>> weighted = withBodies.stream()
            .map(r -> Tuple.of("create".equals(r.body()) ? withBodies.size() : 1, r)).toList();
        @SuppressWarnings("unchecked")
        Tuple.Tuple2<Integer, Route>[] choices = weighted.toArray(new Tuple.Tuple2[0]);
        return Arbitraries.frequency(choices).flatMap(route -> Combinators.combine(prefix(route), validParams(route),
                mutatedJson(bodies.template(route.body())))
            .as((prefix, params, body) -> assemble("bodies", route, prefix, params, validQueryText(route), body, List.of())));
    }

    /** Every route, with hostile path parameters (ids, ports, names) and now and then a method nobody routes. */
    Arbitrary<FuzzRequest> hostilePaths() {
        return Arbitraries.of(Routes.ALL).flatMap(route -> Combinators.combine(prefix(route), hostileParams(route),
                validBody(route), oddMethod(route))
            .as((prefix, params, body, method) -> assemble("paths", route, prefix, params, validQueryText(route), body,
                List.of()).withMethod(method)));
    }

    /** Routes with query parameters, each parameter left out, valid or hostile, plus unknown, repeated and odd ones. */
    Arbitrary<FuzzRequest> hostileQueries() {
        List<Route> withQueries = Routes.ALL.stream().filter(r -> !r.query().isEmpty()).toList();
        return Arbitraries.of(withQueries).flatMap(route -> Combinators.combine(prefix(route), validParams(route),
                hostileQuery(route), validBody(route))
            .as((prefix, params, query, body) -> assemble("queries", route, prefix, params, query, body, List.of())));
    }

    /** Valid requests to every route that cannot harm a fixture, with one to three odd headers. */
    Arbitrary<FuzzRequest> oddHeaders() {
        List<Route> safe = Routes.ALL.stream().filter(r -> r.effect() == Effect.SAFE).toList();
        return Arbitraries.of(safe).flatMap(route -> Combinators.combine(prefix(route), validParams(route), validBody(route),
                oddHeader().list().ofMinSize(1).ofMaxSize(3), Arbitraries.of(false, false, true))
            .as((prefix, params, body, odd, dropKey) -> {
                FuzzRequest request = assemble("headers", route, prefix, params, validQueryText(route), body, odd);
                return dropKey ? request.withoutHeader(KEY_HEADER) : request;
            }));
    }

    /**
     * Requests that must not change a fixture, carrying a method-override header (or {@code _method})
     * that names a method which would: a GET, HEAD or renewal of a stable sandbox asking to be a DELETE.
     */
    Arbitrary<FuzzRequest> methodOverrides() {
        Arbitrary<String> sandbox = Arbitraries.of("{{running}}", "{{paused}}", "{{secure}}");
        Arbitrary<String> path = Arbitraries.frequency(Tuple.of(5, ""), Tuple.of(1, "/diagnostics/inspect"),
            Tuple.of(1, "/endpoints/44772"), Tuple.of(1, "/proxy/44772/ping"), Tuple.of(1, "/renew-expiration"),
            Tuple.of(1, "/metadata"));
        Arbitrary<String> header = Arbitraries.of("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "_method");
        return Combinators.combine(Arbitraries.of("", "/v1"), sandbox, path, header,
                Arbitraries.frequency(Tuple.of(6, "DELETE"), Tuple.of(1, "delete"), Tuple.of(1, "POST"), Tuple.of(1, "PUT"),
                    Tuple.of(1, "PATCH")), Arbitraries.of("GET", "HEAD", "POST"))
            .as((prefix, id, tail, name, override, method) -> {
                String own = tail.equals("/renew-expiration") ? "POST" : tail.equals("/metadata") ? "PATCH" : method;
                String body = tail.equals("/renew-expiration") ? "{\"expiresAt\":\"{{future}}\"}"
                    : tail.equals("/metadata") ? "{\"team\":\"override\"}" : null;
                String target = prefix + "/sandboxes/" + id + tail + (name.equals("_method") ? "?_method=" + override : "");
                List<Header> headers = new ArrayList<>(List.of(new Header(KEY_HEADER, "{{key}}"),
                    new Header(SECURE_HEADER, "{{secureToken}}")));
                if (body != null) {
                    headers.add(new Header("Content-Type", "application/json"));
                }
                if (!name.equals("_method")) {
                    headers.add(new Header(name, override));
                }
                return FuzzRequest.of("override", own, target, headers, body);
            });
    }

    /** The built-in execd API: bodies, queries, ids and uploads, mutated one dimension at a time. */
    Arbitrary<FuzzRequest> execd() {
        List<Route> routes = Routes.EXECD_ROUTES;
        Arbitrary<FuzzRequest> bodiesMutated = Arbitraries.of(routes.stream()
                .filter(r -> r.body() != null && !r.body().equals("upload") && !r.body().equals("any")).toList())
            .flatMap(route -> Combinators.combine(validParams(route), mutatedJson(bodies.template(route.body())))
                .as((params, body) -> assemble("execd", route, "", params, validQueryText(route), body, List.of())));
        Arbitrary<FuzzRequest> queriesMutated = Arbitraries.of(routes.stream().filter(r -> !r.query().isEmpty()).toList())
            .flatMap(route -> Combinators.combine(validParams(route), hostileQuery(route))
                .as((params, query) -> assemble("execd", route, "", params, query, validBodyText(route), List.of())));
        Arbitrary<FuzzRequest> idsMutated = Arbitraries.of(routes).flatMap(route -> Combinators.combine(prefix(route),
                hostileParams(route), validBody(route))
            .as((prefix, params, body) -> assemble("execd", route, prefix, params, validQueryText(route), body, List.of())));
        Route upload = routes.stream().filter(r -> "upload".equals(r.body())).findFirst().orElseThrow();
        Arbitrary<FuzzRequest> uploads = Combinators.combine(validParams(upload), multipart())
            .as((params, parts) -> assemble("execd", upload, "", params, "", parts.get1(), List.of())
                .withoutHeader("Content-Type").withHeader("Content-Type", parts.get2()));
        Arbitrary<FuzzRequest> downloads = Combinators.combine(Arbitraries.of(Values.READABLE_PATHS),
                Arbitraries.of("bytes=0-0", "bytes=-1", "bytes=5-1", "bytes=99999999999999999999-", "bytes=0-1,2-3",
                    "items=0-1", "bytes=-0", "bytes=abc", "bytes=0-", "bytes=1-99999999999999999999"))
            .as((path, range) -> FuzzRequest.of("execd", "GET", "/sandboxes/{{running}}/proxy/44772/files/download?path="
                + encode(path), List.of(new Header(KEY_HEADER, "{{key}}"), new Header("Range", range)), null));
        return Arbitraries.frequencyOf(Tuple.of(4, bodiesMutated), Tuple.of(3, queriesMutated), Tuple.of(2, idsMutated),
            Tuple.of(1, uploads), Tuple.of(1, downloads));
    }

    /** The reverse proxy: ports, backend paths, methods, bodies, query strings, secure-access tokens. */
    Arbitrary<FuzzRequest> proxy() {
        Arbitrary<String> sandbox = Arbitraries.frequency(Tuple.of(6, "{{running}}"), Tuple.of(2, "{{secure}}"),
            Tuple.of(1, "{{paused}}"), Tuple.of(1, "{{exited}}"), Tuple.of(2, "bad"))
            .flatMap(s -> s.equals("bad") ? Arbitraries.of(Values.BAD_IDS) : Arbitraries.just(s));
        Arbitrary<String> port = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just("8080")),
            Tuple.of(1, Arbitraries.just("44772")), Tuple.of(3, Arbitraries.of(Values.PORTS)));
        Arbitrary<String> path = Arbitraries.of("", "/", "/index.html", "/a/b/c", "/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e",
            "/%00", "/a%0a" + Values.FORGED + "-proxy", "/\u00fc", "/" + Values.repeat("p", 9000), "/cgi-bin/x?y=%ZZ",
            "/a?b=c&d", "/ping", "/%25", "/a;b", "/.", "//double");
        Arbitrary<String> token = Arbitraries.of("", "none", "wrong", "{{secureToken}}", "{{secureToken}}x");
        return Combinators.combine(Arbitraries.of(Routes.PROXY_METHODS), Arbitraries.of("", "/v1"), sandbox, port, path,
                token, Arbitraries.of("", "{\"a\":1}", Values.repeat("b", 100_000)), Arbitraries.of(false, false, true))
            .as((method, prefix, id, p, backendPath, tok, body, chunked) -> {
                List<Header> headers = new ArrayList<>();
                headers.add(new Header(KEY_HEADER, "{{key}}"));
                if (!tok.equals("none")) {
                    headers.add(new Header(SECURE_HEADER, tok));
                }
                boolean sendsBody = !body.isEmpty() && !method.equals("GET") && !method.equals("HEAD");
                if (sendsBody) {
                    headers.add(new Header("Content-Type", "application/json"));
                }
                FuzzRequest request = FuzzRequest.of("proxy", method, prefix + "/sandboxes/" + id + "/proxy/" + p + backendPath,
                    headers, sendsBody ? body : null);
                return chunked && sendsBody ? request.withFraming(Framing.CHUNKED, false) : request;
            });
    }

    /** Over a raw socket: broken body framing, request lines, header syntax, URI and header sizes, WebSocket handshakes. */
    Arbitrary<FuzzRequest> rawFraming() {
        List<Route> withBodies = Routes.ALL.stream().filter(r -> r.body() != null && r.effect() == Effect.SAFE
            && !r.body().equals("upload")).toList();
        Arbitrary<FuzzRequest> framing = Arbitraries.of(withBodies).flatMap(route -> Combinators.combine(prefix(route),
                validParams(route), validBody(route),
                Arbitraries.of(Framing.CHUNKED, Framing.LENGTH_TOO_LONG, Framing.LENGTH_TOO_SHORT, Framing.CHUNK_SIZE_NOT_HEX,
                    Framing.CHUNKS_UNTERMINATED, Framing.LENGTH_AND_CHUNKED, Framing.TWO_LENGTHS))
            .as((prefix, params, body, frame) -> assemble("framing", route, prefix, params, validQueryText(route), body,
                List.of()).withFraming(frame, frame != Framing.CHUNKED).overRawSocket("HTTP/1.1", false)));
        List<Route> safe = Routes.ALL.stream().filter(r -> r.effect() == Effect.SAFE).toList();
        Arbitrary<FuzzRequest> lines = Arbitraries.of(safe).flatMap(route -> Combinators.combine(prefix(route),
                validParams(route), Arbitraries.of(RawVariant.values()))
            .as((prefix, params, variant) -> variant.apply(assemble("framing", route, prefix, params, validQueryText(route),
                null, List.of()))));
        Arbitrary<FuzzRequest> webSockets = Arbitraries.of("/v1/nope", "/nope", "/sandboxes/{{running}}/proxy/abc",
                "/sandboxes/not-a-uuid/proxy/8080", "/v1/sandboxes/{{running}}/proxy/8080", "/sandboxes/{{secure}}/proxy/8080",
                "/v1/sandboxes/{{paused}}/proxy/8080/ws", "/sandboxes/{{running}}/proxy/44772/ping",
                "/v1/sandboxes/%0a" + Values.FORGED + "-ws/proxy/8080", "/v1/sandboxes", "/health")
            .map(target -> FuzzRequest.of("framing", "GET", target, List.of(new Header(KEY_HEADER, "{{key}}"),
                    new Header("Upgrade", "websocket"), new Header("Connection", "Upgrade"),
                    new Header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), new Header("Sec-WebSocket-Version", "13")),
                null).overRawSocket("HTTP/1.1", false));
        return Arbitraries.frequencyOf(Tuple.of(4, framing), Tuple.of(5, lines), Tuple.of(1, webSockets));
    }

    /**
     * Bodies past any sensible size limit on the lifecycle routes, sent with a length or chunked.
     * The pool routes are left out: off Kubernetes they answer 501 before reading any body.
     */
    Arbitrary<FuzzRequest> oversizeBodies(int bytes) {
        List<Route> lifecycle = Routes.LIFECYCLE.stream().filter(r -> r.body() != null && !r.template().startsWith("/pools"))
            .toList();
        return Combinators.combine(Arbitraries.of(lifecycle), Arbitraries.of("", "/v1"),
                Arbitraries.of(Framing.LENGTH, Framing.CHUNKED))
            .as((route, prefix, framing) -> {
                String filler = Values.repeat("x", bytes);
                String body = route.body().equals("create")
                    ? "{\"image\":{\"uri\":\"" + scope.image() + "\"},\"entrypoint\":[\"sleep\",\"3600\"],\"timeout\":60,"
                        + "\"resourceLimits\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},"
                        + "\"metadata\":{\"fuzz-run\":\"" + scope.run() + "\",\"filler\":\"" + filler + "\"}}"
                    : "{\"filler\":\"" + filler + "\"}";
                Map<Routes.Param, String> params = new TreeMap<>(Map.of(Routes.Param.SANDBOX, "{{running}}",
                    Routes.Param.POOL, "fuzz-pool"));
                return assemble("oversize", route, route.root() ? "" : prefix, params, "", body, List.of())
                    .withFraming(framing, false);
            });
    }

    // ------------------------------------------------------------------ request lines and header syntax

    /** What a raw socket can send that a client library never would. */
    enum RawVariant {
        HTTP_1_0, HTTP_2_0, BAD_VERSION, LOWERCASE_VERSION, NO_VERSION, UNKNOWN_METHOD, LOWERCASE_METHOD, RAW_SPACE_IN_TARGET,
        RAW_CONTROL_IN_TARGET, RAW_UTF8_IN_TARGET, ASTERISK_TARGET, ABSOLUTE_TARGET, FRAGMENT_IN_TARGET, LONG_URI_9K,
        LONG_URI_70K, HEADER_9K, HEADERS_200, HEADER_CRLF_INJECTION, HEADER_NUL, HEADER_NAME_WITH_SPACE,
        HEADER_WITHOUT_COLON, OBS_FOLD, EMPTY_HOST, BAD_HOST, TWO_HOSTS, H2C_UPGRADE, UPGRADE_WITHOUT_KEY,
        EXPECT_UNKNOWN, TRANSFER_ENCODING_GZIP, METHOD_OVERRIDE_DELETE, REQUEST_ID_CRLF;

        FuzzRequest apply(FuzzRequest request) {
            String target = request.target();
            return switch (this) {
                case HTTP_1_0 -> request.overRawSocket("HTTP/1.0", false);
                case HTTP_2_0 -> request.overRawSocket("HTTP/2.0", true);
                case BAD_VERSION -> request.overRawSocket("HTTP/1.1x", true);
                case LOWERCASE_VERSION -> request.overRawSocket("http/1.1", true);
                case NO_VERSION -> request.overRawSocket("", true);
                case UNKNOWN_METHOD -> request.withMethod("FUZZMETHOD").overRawSocket("HTTP/1.1", false);
                case LOWERCASE_METHOD -> request.withMethod(request.method().equals("GET") ? "get" : "FOO")
                    .overRawSocket("HTTP/1.1", false);
                case RAW_SPACE_IN_TARGET -> request.withTarget(target + "/a b").overRawSocket("HTTP/1.1", true);
                case RAW_CONTROL_IN_TARGET -> request.withTarget(target + "/\u0001\u007f").overRawSocket("HTTP/1.1", true);
                case RAW_UTF8_IN_TARGET -> request.withTarget(target + "/\u00fc\u65e5").overRawSocket("HTTP/1.1", true);
                case ASTERISK_TARGET -> request.withTarget("*").overRawSocket("HTTP/1.1", true);
                case ABSOLUTE_TARGET -> request.withTarget("http://127.0.0.1:1" + target).overRawSocket("HTTP/1.1", false);
                case FRAGMENT_IN_TARGET -> request.withTarget(target + "#frag").overRawSocket("HTTP/1.1", true);
                case LONG_URI_9K -> request.withTarget(target + (target.contains("?") ? "&" : "?") + "q=" + Values.repeat("u", 9000))
                    .overRawSocket("HTTP/1.1", false);
                case LONG_URI_70K -> request.withTarget(target + "/" + Values.repeat("u", 70_000)).overRawSocket("HTTP/1.1", false);
                case HEADER_9K -> request.withHeader("X-Fuzz", Values.repeat("h", 9000)).overRawSocket("HTTP/1.1", false);
                case HEADERS_200 -> {
                    FuzzRequest many = request;
                    for (int i = 0; i < 200; i++) {
                        many = many.withHeader("X-Fuzz-" + i, Values.repeat("v", 60));
                    }
                    yield many.overRawSocket("HTTP/1.1", false);
                }
                case HEADER_CRLF_INJECTION -> request.withHeader("X-Fuzz", "a\r\n" + Values.FORGED + ": injected")
                    .overRawSocket("HTTP/1.1", false);
                case HEADER_NUL -> request.withHeader("X-Fuzz", "a\u0000b").overRawSocket("HTTP/1.1", true);
                case HEADER_NAME_WITH_SPACE -> request.withHeader("X Fuzz", "1").overRawSocket("HTTP/1.1", true);
                case HEADER_WITHOUT_COLON -> request.withHeader("X-Fuzz-No-Colon" + "\r\nX-Next", "1")
                    .withHeader("NoColonHere\r\nX-After", "1").overRawSocket("HTTP/1.1", true);
                case OBS_FOLD -> request.withHeader("X-Fuzz", "first\r\n folded").overRawSocket("HTTP/1.1", true);
                case EMPTY_HOST -> request.withHeader("Host", "").overRawSocket("HTTP/1.1", true);
                case BAD_HOST -> request.withHeader("Host", "a:b:c").overRawSocket("HTTP/1.1", true);
                case TWO_HOSTS -> request.withHeader("Host", "127.0.0.1").withHeader("Host", "evil.example")
                    .overRawSocket("HTTP/1.1", true);
                case H2C_UPGRADE -> request.withHeader("Connection", "Upgrade, HTTP2-Settings").withHeader("Upgrade", "h2c")
                    .withHeader("HTTP2-Settings", "AAMAAABkAAQAAP__").overRawSocket("HTTP/1.1", false);
                case UPGRADE_WITHOUT_KEY -> request.withHeader("Connection", "Upgrade").withHeader("Upgrade", "websocket")
                    .overRawSocket("HTTP/1.1", false);
                case EXPECT_UNKNOWN -> request.withHeader("Expect", "fuzz-expectation").overRawSocket("HTTP/1.1", false);
                case TRANSFER_ENCODING_GZIP -> request.withHeader("Transfer-Encoding", "gzip").overRawSocket("HTTP/1.1", true);
                case METHOD_OVERRIDE_DELETE -> request.withHeader("X-HTTP-Method-Override", "DELETE")
                    .overRawSocket("HTTP/1.1", false);
                case REQUEST_ID_CRLF -> request.withHeader("X-Request-ID", "id\r\n" + Values.FORGED + ": x")
                    .overRawSocket("HTTP/1.1", false);
            };
        }
    }

    Arbitrary<Header> oddHeader() {
        return Arbitraries.oneOf(
            Combinators.combine(Arbitraries.of("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"),
                Arbitraries.of("DELETE", "PUT", "PATCH", "POST", "delete")).as(Header::new),
            Arbitraries.of("text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data",
                "application/json; charset=utf-16", "application/json; charset=nonsense", "", ";;;", "application/json, text/plain",
                "*/*", "application/" + Values.repeat("j", 5000)).map(v -> new Header("Content-Type", v)),
            Arbitraries.of("text/html", "application/xml", "*/*", "text/event-stream", "", "image/png")
                .map(v -> new Header("Accept", v)),
            Arbitraries.of("gzip", "br", "identity;q=0", "*", "gzip;q=abc").map(v -> new Header("Accept-Encoding", v)),
            Arbitraries.of("gzip", "deflate", "bogus").map(v -> new Header("Content-Encoding", v)),
            Arbitraries.of(Values.repeat("r", 200), "a b", "<script>", "%0a" + Values.FORGED, "\u00fc", "")
                .map(v -> new Header("X-Request-ID", v)),
            Arbitraries.of(4000, 7000, 9000, 20_000, 70_000).map(n -> new Header("X-Fuzz-Large", Values.repeat("a", n))),
            Arbitraries.of(20_000).map(n -> new Header("Cookie", "a=" + Values.repeat("b", n))),
            Arbitraries.of("http://evil.example", "null", "").map(v -> new Header("Origin", v)),
            Arbitraries.of("bytes=0-0", "bytes=5-1", "items=0-1").map(v -> new Header("Range", v)),
            Arbitraries.of("", "wrong", "{{key}}x", " {{key}} ", "{{key}}{{key}}").map(v -> new Header(KEY_HEADER, v)),
            Arbitraries.of("", "wrong", "{{secureToken}}").map(v -> new Header(SECURE_HEADER, v)),
            Arbitraries.of("100-continue").map(v -> new Header("Expect", v)),
            Arbitraries.of("1.2.3.4, <script>", "unknown").map(v -> new Header("X-Forwarded-For", v)),
            Arbitraries.of("evil.example", "").map(v -> new Header("X-Forwarded-Host", v)),
            Arbitraries.of("respond-async", "wait=99999999999", "").map(v -> new Header("Prefer", v)),
            Arbitraries.of("key-" + scope.run(), "", Values.repeat("k", 5000), "\u00fc").map(v -> new Header("Idempotency-Key", v)),
            Arbitraries.of("GET", "DELETE", "X-Fuzz").map(v -> new Header("Access-Control-Request-Method", v)));
    }

    // ------------------------------------------------------------------ parts

    private Arbitrary<String> prefix(Route route) {
        return route.root() ? Arbitraries.just("") : Arbitraries.of("", "/v1");
    }

    /** Methods that no route at this path serves (so they can never delete or pause a fixture), or the route's own. */
    private Arbitrary<String> oddMethod(Route route) {
        if (route.proxy()) {
            return Arbitraries.just(route.method());
        }
        List<String> odd = new ArrayList<>(List.of("TRACE", "FUZZ", "PROPFIND"));
        if (route.method().equals("GET")) {
            odd.add("get");
        }
        return Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.just(route.method())), Tuple.of(2, Arbitraries.of(odd)));
    }

    private Arbitrary<String> validSandbox(Route route) {
        if (route.effect() == Effect.LIFECYCLE || route.effect() == Effect.FILES) {
            return Arbitraries.just("{{scratch}}");
        }
        List<Tuple.Tuple2<Integer, String>> choices = new ArrayList<>(List.of(Tuple.of(8, "{{running}}"),
            Tuple.of(1, "{{paused}}"), Tuple.of(1, "{{secure}}"), Tuple.of(1, "{{exited}}")));
        if (scope.realEngine()) {
            choices.add(Tuple.of(1, "{{stopped}}"));
        }
        @SuppressWarnings("unchecked")
        Tuple.Tuple2<Integer, String>[] array = choices.toArray(new Tuple.Tuple2[0]);
        return Arbitraries.frequency(array);
    }

    private Arbitrary<Map<Routes.Param, String>> validParams(Route route) {
        return Combinators.combine(validSandbox(route), Arbitraries.of("44772", "8080"))
            .as((sandbox, port) -> {
                Map<Routes.Param, String> params = new TreeMap<>();
                params.put(Routes.Param.SANDBOX, sandbox);
                params.put(Routes.Param.PORT, route.proxy() ? "8080" : port);
                params.put(Routes.Param.SNAPSHOT, route.effect() == Effect.SNAPSHOT_DELETE ? "{{scratchSnapshot}}" : "{{snapshot}}");
                params.put(Routes.Param.POOL, "fuzz-pool");
                params.put(Routes.Param.SESSION, "{{session}}");
                params.put(Routes.Param.COMMAND, "{{command}}");
                params.put(Routes.Param.PROXY_PATH, "index.html");
                return params;
            });
    }

    /** Valid parameters with one or more replaced by a hostile value. */
    private Arbitrary<Map<Routes.Param, String>> hostileParams(Route route) {
        Arbitrary<String> badId = Arbitraries.of(Values.BAD_IDS);
        Arbitrary<String> badName = Arbitraries.of(Values.BAD_IDS).map(v -> v.equals("..") ? "%2e%2e" : v);
        List<Routes.Param> present = route.params();
        if (present.isEmpty()) {
            return validParams(route);
        }
        return Combinators.combine(validParams(route), Arbitraries.of(present), badId, Arbitraries.of(Values.PORTS),
                badName, Arbitraries.of(false, true))
            .as((params, which, id, port, name, alsoId) -> {
                Map<Routes.Param, String> out = new TreeMap<>(params);
                switch (which) {
                    case PORT -> out.put(which, port);
                    case SANDBOX -> out.put(which, id);
                    case PROXY_PATH -> out.put(which, name.equals("..") ? "%2e%2e" : name);
                    default -> out.put(which, name);
                }
                if (alsoId && present.contains(Routes.Param.SANDBOX)) {
                    out.put(Routes.Param.SANDBOX, id);
                }
                return out;
            });
    }

    private String validQueryText(Route route) {
        List<String> pairs = new ArrayList<>();
        for (Map.Entry<String, QueryKind> param : new TreeMap<>(route.query()).entrySet()) {
            String value = switch (param.getValue()) {
                case READ_PATH -> "/tmp/fuzz/a.txt";
                case WRITE_PATH -> "/tmp/fuzz/missing";
                case COMMAND_ID -> "{{command}}";
                default -> null;
            };
            if (value != null) {
                pairs.add(param.getKey() + "=" + encode(value));
            }
        }
        return String.join("&", pairs);
    }

    private static String validQueryValue(QueryKind kind, String run) {
        return switch (kind) {
            case NUMBER -> "2";
            case SINCE -> "10m";
            case BOOLEAN -> "true";
            case STATE -> "Running";
            case METADATA -> encode("fuzz-run=" + run);
            case SANDBOX_ID -> "{{running}}";
            case READ_PATH -> encode("/tmp/fuzz/a.txt");
            case WRITE_PATH -> encode("/tmp/fuzz/missing");
            case TEXT -> "x";
            case COMMAND_ID -> "{{command}}";
        };
    }

    private static List<String> hostileValues(QueryKind kind) {
        return switch (kind) {
            case NUMBER -> Values.QUERY_NUMBERS;
            case SINCE -> Values.SINCE;
            case BOOLEAN -> Values.BOOLEANS;
            case STATE -> Values.STATES;
            case METADATA -> Values.METADATA_FILTERS;
            case SANDBOX_ID, COMMAND_ID -> Values.BAD_IDS;
            case READ_PATH -> Values.READABLE_PATHS.stream().map(RequestArbitraries::encode).toList();
            case WRITE_PATH -> Values.WRITABLE_PATHS.stream().map(RequestArbitraries::encode).toList();
            case TEXT -> Values.TEXTS.stream().filter(t -> t.length() < 10_000).map(RequestArbitraries::encode).toList();
        };
    }

    /** Each parameter left out, valid or hostile (at least one hostile), then maybe an extra odd one. */
    private Arbitrary<String> hostileQuery(Route route) {
        List<Map.Entry<String, QueryKind>> params = new ArrayList<>(new TreeMap<>(route.query()).entrySet());
        List<Arbitrary<String>> parts = new ArrayList<>();
        for (Map.Entry<String, QueryKind> param : params) {
            String name = param.getKey();
            Arbitrary<String> hostile = Arbitraries.of(hostileValues(param.getValue())).map(v -> name + "=" + v);
            parts.add(Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just("")),
                Tuple.of(1, Arbitraries.just(name + "=" + validQueryValue(param.getValue(), scope.run()))),
                Tuple.of(3, hostile)));
        }
        Arbitrary<String> extra = Arbitraries.of("", "", "_method=DELETE", "unknown=1", "page", "=", "&&&", "a=%ZZ",
            params.get(0).getKey() + "=1&" + params.get(0).getKey() + "=2", params.get(0).getKey(), "%00=1",
            "x=" + Values.repeat("q", 5000), "since=99999999999999999999s");
        Arbitrary<String> forced = Arbitraries.of(params).flatMap(p -> Arbitraries.of(hostileValues(p.getValue()))
            .map(v -> p.getKey() + "=" + v));
        return Combinators.combine(Combinators.combine(parts).as(list -> list), forced, extra)
            .as((chosen, oneHostile, more) -> {
                List<String> all = new ArrayList<>();
                chosen.stream().filter(s -> !s.isEmpty()).forEach(all::add);
                all.add(oneHostile);
                if (!more.isEmpty()) {
                    all.add(more);
                }
                return String.join("&", all);
            });
    }

    private Arbitrary<String> validBody(Route route) {
        return Arbitraries.just(validBodyText(route));
    }

    private String validBodyText(Route route) {
        if (route.body() == null) {
            return null;
        }
        if (route.body().equals("upload")) {
            return null;
        }
        return JsonBody.apply(bodies.template(route.body()).json(), List.of());
    }

    private Arbitrary<String> mutatedJson(Bodies.Template template) {
        List<String> pointers = JsonBody.pointers(template.json());
        List<String> objects = JsonBody.objectPointers(template.json());
        Arbitrary<Mutation> replace = Arbitraries.of(pointers).flatMap(p -> valueFor(template, p)
            .map(raw -> new Mutation(Kind.REPLACE, p, null, raw)));
        Arbitrary<Mutation> remove = Arbitraries.of(pointers).map(p -> new Mutation(Kind.REMOVE, p, null, null));
        Arbitrary<Mutation> add = Arbitraries.of(objects).flatMap(p -> Combinators.combine(Arbitraries.of(sized(template.keysAt(p))),
                Arbitraries.of(sized(Values.JSON_VALUES)))
            .as((key, raw) -> new Mutation(Kind.ADD_FIELD, p, key, raw)));
        Arbitrary<List<Mutation>> mutations = Arbitraries.frequencyOf(Tuple.of(6, replace), Tuple.of(2, remove), Tuple.of(2, add))
            .list().ofMinSize(1).ofMaxSize(2);
        Arbitrary<String> mutated = mutations.map(list -> JsonBody.apply(template.json(), list));
        return Arbitraries.frequencyOf(Tuple.of(9, mutated), Tuple.of(1, Arbitraries.of(sized(Values.WHOLE_BODIES))));
    }

    /**
     * On the real engine no body value is longer than this. An entrypoint element of 70,000
     * characters wedged runc on the shared engine (its error message, which quotes the argument,
     * filled a pipe nobody read, so the container could be neither started, inspected nor
     * removed): the in-memory run sends such values, the Docker run must not.
     */
    static final int REAL_ENGINE_MAX_VALUE = 16 * 1024;

    private List<String> sized(List<String> values) {
        return scope.realEngine() ? values.stream().filter(v -> v.length() <= REAL_ENGINE_MAX_VALUE).toList() : values;
    }

    /** A value for one field: only the allowed ones where the field is restricted, else mostly the field's own hostile values. */
    private Arbitrary<String> valueFor(Bodies.Template template, String pointer) {
        if (template.restricted(pointer)) {
            return Arbitraries.of(sized(template.valuesAt(pointer)));
        }
        List<String> preferred = sized(template.preferredAt(pointer));
        Arbitrary<String> generic = Arbitraries.of(sized(Values.JSON_VALUES));
        return preferred.isEmpty() ? generic
            : Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.of(preferred)), Tuple.of(1, generic));
    }

    /** Create bodies with one or two of the fields the engine checks (limits, argv, environment, mounts, timeout) mutated. */
    Arbitrary<FuzzRequest> engineCheckedCreateFields() {
        Route create = Routes.LIFECYCLE.stream().filter(r -> "create".equals(r.body())).findFirst().orElseThrow();
        Bodies.Template template = bodies.template("create");
        List<String> pointers = new ArrayList<>(Bodies.ENGINE_CHECKED.keySet());
        pointers.sort(null);
        Arbitrary<Mutation> mutation = Arbitraries.of(pointers).flatMap(p -> Arbitraries.of(sized(Bodies.ENGINE_CHECKED.get(p)))
            .map(raw -> new Mutation(Kind.REPLACE, p, null, raw)));
        return Combinators.combine(prefix(create), mutation.list().ofMinSize(1).ofMaxSize(2))
            .as((prefix, mutations) -> assemble("engine-fields", create, prefix, Map.of(), "",
                JsonBody.apply(template.json(), mutations), List.of()));
    }

    /** A multipart upload (body, Content-Type): well formed, or with parts missing, unparsable or cut off. */
    private Arbitrary<Tuple.Tuple2<String, String>> multipart() {
        Bodies.Template metadata = new Bodies.Template("upload-metadata", JsonBody.parse("{\"path\":\"/tmp/fuzz/up.txt\",\"mode\":644}"),
            Map.of("/path", Bodies.quoted(Values.WRITABLE_PATHS)), List.of(), false);
        Arbitrary<String> meta = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(JsonBody.apply(metadata.json(), List.of()))),
            Tuple.of(3, mutatedJson(metadata)));
        return Combinators.combine(meta, Arbitraries.of(MultipartShape.values()))
            .as((json, shape) -> shape.build(json));
    }

    enum MultipartShape {
        WELL_FORMED, NO_FILE_PART, NO_METADATA_PART, TWO_METADATA_ONE_FILE, NO_BOUNDARY_PARAMETER, WRONG_BOUNDARY, CUT_OFF;

        Tuple.Tuple2<String, String> build(String metadataJson) {
            String b = "fuzzBoundary7MA4YWxk";
            String metadataPart = "--" + b + "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n"
                + "Content-Type: application/json\r\n\r\n" + metadataJson + "\r\n";
            String filePart = "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"up.txt\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\nfuzz upload\r\n";
            String end = "--" + b + "--\r\n";
            String type = "multipart/form-data; boundary=" + b;
            return switch (this) {
                case WELL_FORMED -> Tuple.of(metadataPart + filePart + end, type);
                case NO_FILE_PART -> Tuple.of(metadataPart + end, type);
                case NO_METADATA_PART -> Tuple.of(filePart + end, type);
                case TWO_METADATA_ONE_FILE -> Tuple.of(metadataPart + metadataPart + filePart + end, type);
                case NO_BOUNDARY_PARAMETER -> Tuple.of(metadataPart + filePart + end, "multipart/form-data");
                case WRONG_BOUNDARY -> Tuple.of(metadataPart + filePart + end, "multipart/form-data; boundary=other");
                case CUT_OFF -> Tuple.of(metadataPart + filePart.substring(0, filePart.length() / 2), type);
            };
        }
    }

    /** Puts a request together: prefix, template with its parameters, query, the API key, JSON content type, extra headers. */
    private FuzzRequest assemble(String family, Route route, String prefix, Map<Routes.Param, String> params, String query,
                                 String body, List<Header> extra) {
        String path = route.template()
            .replace("{sandboxId}", params.getOrDefault(Routes.Param.SANDBOX, "{{running}}"))
            .replace("{port}", params.getOrDefault(Routes.Param.PORT, "8080"))
            .replace("{snapshotId}", params.getOrDefault(Routes.Param.SNAPSHOT, "{{snapshot}}"))
            .replace("{poolName}", params.getOrDefault(Routes.Param.POOL, "fuzz-pool"))
            .replace("{sessionId}", params.getOrDefault(Routes.Param.SESSION, "{{session}}"))
            .replace("{commandId}", params.getOrDefault(Routes.Param.COMMAND, "{{command}}"))
            .replace("<path>", params.getOrDefault(Routes.Param.PROXY_PATH, "index.html"));
        String target = prefix + path + (query == null || query.isEmpty() ? "" : "?" + query);
        List<Header> headers = new ArrayList<>();
        headers.add(new Header(KEY_HEADER, "{{key}}"));
        if (body != null && !body.isEmpty() && extra.stream().noneMatch(h -> h.name().equalsIgnoreCase("Content-Type"))) {
            headers.add(new Header("Content-Type", "application/json"));
        }
        if (path.contains("{{secure}}")) {
            headers.add(new Header(SECURE_HEADER, "{{secureToken}}"));
        }
        headers.addAll(extra);
        return FuzzRequest.of(family, route.method(), target, headers, body);
    }

    static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
