package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.service.ServicePolicy;
import dev.opensandbox.core.service.SnapshotService;
import dev.opensandbox.core.store.InMemorySandboxStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The served OpenAPI document parses, describes every served route (and only served routes),
 * and is internally consistent: operation ids, success responses, {@code $ref}s, path parameters.
 */
class OpenApiDocumentTest {

    private static final Set<String> HTTP_METHODS = Set.of("get", "put", "post", "delete", "options", "head",
        "patch", "trace");
    private static final Pattern PATH_PARAM = Pattern.compile("\\{([^}/]+)}");
    private static final Pattern JAVALIN_ANGLE_PARAM = Pattern.compile("<([^>/]+)>");

    private final ObjectMapper mapper = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    private ApiServer server;

    @BeforeEach
    void startServer() {
        server = newServer(HttpSettings.insecureDefaults());
    }

    @AfterEach
    void stopServers() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        toClose.clear();
    }

    private ApiServer newServer(HttpSettings settings) {
        Clock clock = Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC);
        InMemorySandboxStore store = new InMemorySandboxStore();
        SandboxService service = new SandboxService(new InMemorySandboxRuntime(clock), store, clock,
            ServicePolicy.defaults());
        toClose.add(service);
        SnapshotService snapshots = new SnapshotService(service, store, clock, Runnable::run);
        ApiServer api = new ApiServer(service, snapshots, settings, clock, 4);
        toClose.add(api);
        return api.start("127.0.0.1", 0);
    }

    private HttpResponse<String> get(ApiServer api, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
            .timeout(Duration.ofSeconds(10)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode fetchDocument() throws IOException, InterruptedException {
        HttpResponse<String> response = get(server, "/openapi.json");
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
            "Content-Type: " + response.headers().firstValue("Content-Type"));
        return mapper.readTree(response.body());
    }

    /** Every "METHOD /path" the document describes, with Javalin's path syntax (identical for {x}). */
    private static Set<String> documentedRoutes(JsonNode doc) {
        Set<String> routes = new TreeSet<>();
        doc.get("paths").fields().forEachRemaining(path -> path.getValue().fieldNames().forEachRemaining(key -> {
            if (HTTP_METHODS.contains(key)) {
                routes.add(key.toUpperCase(Locale.ROOT) + " " + path.getKey());
            }
        }));
        return routes;
    }

    private static Set<String> servedRoutes(ApiServer api) {
        Set<String> routes = new TreeSet<>();
        for (String route : api.routes()) {
            int space = route.indexOf(' ');
            String method = route.substring(0, space).toUpperCase(Locale.ROOT);
            String path = JAVALIN_ANGLE_PARAM.matcher(route.substring(space + 1)).replaceAll("{$1}");
            routes.add(method + " " + path);
        }
        return routes;
    }

    private static List<Map.Entry<String, JsonNode>> operations(JsonNode doc) {
        List<Map.Entry<String, JsonNode>> ops = new ArrayList<>();
        doc.get("paths").fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(op -> {
            if (HTTP_METHODS.contains(op.getKey())) {
                ops.add(Map.entry(op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey(), op.getValue()));
            }
        }));
        return ops;
    }

    @Test
    void isAnOpenApi3DocumentWithInfoAndServers() throws Exception {
        JsonNode doc = fetchDocument();
        assertTrue(doc.path("openapi").asText().startsWith("3."), "openapi: " + doc.path("openapi"));
        assertFalse(doc.path("info").path("title").asText().isBlank());
        assertFalse(doc.path("info").path("version").asText().isBlank());
        Set<String> servers = new HashSet<>();
        doc.path("servers").forEach(s -> servers.add(s.path("url").asText()));
        assertEquals(Set.of("/", "/v1"), servers);
    }

    @Test
    void everyServedRouteIsDocumented() throws Exception {
        Set<String> documented = documentedRoutes(fetchDocument());
        Set<String> served = servedRoutes(server);
        assertFalse(served.isEmpty(), "the server reports no routes");
        Set<String> missing = new TreeSet<>(served);
        missing.removeAll(documented);
        assertTrue(missing.isEmpty(), "served but not in openapi.json: " + missing);
    }

    @Test
    void everyDocumentedRouteIsServed() throws Exception {
        Set<String> documented = documentedRoutes(fetchDocument());
        Set<String> fake = new TreeSet<>(documented);
        fake.removeAll(servedRoutes(server));
        assertTrue(fake.isEmpty(), "in openapi.json but not served: " + fake);
    }

    @Test
    void everyOperationHasAUniqueIdAndASuccessOrNotImplementedResponse() throws Exception {
        JsonNode doc = fetchDocument();
        Set<String> ids = new HashSet<>();
        List<Map.Entry<String, JsonNode>> ops = operations(doc);
        assertFalse(ops.isEmpty());
        for (Map.Entry<String, JsonNode> op : ops) {
            String id = op.getValue().path("operationId").asText("");
            assertFalse(id.isBlank(), op.getKey() + " has no operationId");
            assertTrue(ids.add(id), "duplicate operationId " + id + " at " + op.getKey());
            assertFalse(op.getValue().path("summary").asText("").isBlank(), op.getKey() + " has no summary");
            boolean success = false;
            for (Iterator<String> it = op.getValue().path("responses").fieldNames(); it.hasNext(); ) {
                String status = it.next();
                success |= status.startsWith("2") || status.equals("501");
            }
            assertTrue(success, op.getKey() + " documents no 2xx or 501 response");
        }
    }

    @Test
    void everyRefResolves() throws Exception {
        JsonNode doc = fetchDocument();
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertFalse(refs.isEmpty(), "the document uses no $ref at all");
        for (String ref : refs) {
            assertTrue(ref.startsWith("#/"), "only local refs are expected: " + ref);
            assertFalse(doc.at(ref.substring(1)).isMissingNode(), "unresolved $ref " + ref);
        }
    }

    private static void collectRefs(JsonNode node, List<String> refs) {
        if (node.isObject()) {
            node.fields().forEachRemaining(field -> {
                if (field.getKey().equals("$ref") && field.getValue().isTextual()) {
                    refs.add(field.getValue().textValue());
                } else {
                    collectRefs(field.getValue(), refs);
                }
            });
        } else if (node.isArray()) {
            node.forEach(child -> collectRefs(child, refs));
        }
    }

    @Test
    void everyPathParameterIsDeclared() throws Exception {
        JsonNode doc = fetchDocument();
        for (Map.Entry<String, JsonNode> op : operations(doc)) {
            String path = op.getKey().substring(op.getKey().indexOf(' ') + 1);
            Set<String> declared = new HashSet<>();
            for (JsonNode parameter : op.getValue().path("parameters")) {
                JsonNode resolved = parameter.has("$ref") ? doc.at(parameter.get("$ref").asText().substring(1)) : parameter;
                if (resolved.path("in").asText().equals("path")) {
                    assertTrue(resolved.path("required").asBoolean(), op.getKey() + ": path parameter not required");
                    declared.add(resolved.path("name").asText());
                }
            }
            Set<String> inPath = new HashSet<>();
            Matcher m = PATH_PARAM.matcher(path);
            while (m.find()) {
                inPath.add(m.group(1));
            }
            assertEquals(inPath, declared, op.getKey() + ": path parameters");
        }
    }

    @Test
    void errorResponseRequiresCodeAndMessage() throws Exception {
        JsonNode error = fetchDocument().at("/components/schemas/ErrorResponse");
        assertFalse(error.isMissingNode(), "no ErrorResponse schema");
        Set<String> required = new HashSet<>();
        error.path("required").forEach(r -> required.add(r.asText()));
        assertTrue(required.containsAll(Set.of("code", "message")), "ErrorResponse.required = " + required);
        assertEquals("string", error.at("/properties/code/type").asText());
        assertEquals("string", error.at("/properties/message/type").asText());
    }

    @Test
    void apiKeyIsRequiredGloballyExceptForHealthAndTheDocument() throws Exception {
        JsonNode doc = fetchDocument();
        JsonNode scheme = doc.at("/components/securitySchemes/ApiKeyAuth");
        assertEquals("apiKey", scheme.path("type").asText());
        assertEquals("header", scheme.path("in").asText());
        assertEquals(Filters.API_KEY_HEADER, scheme.path("name").asText());
        assertTrue(doc.path("security").toString().contains("ApiKeyAuth"), "no global security requirement");
        for (String open : List.of("/health", "/openapi.json")) {
            JsonNode security = doc.path("paths").path(open).path("get").path("security");
            assertTrue(security.isArray() && security.isEmpty(), open + " must declare security: []");
        }

        // And the server agrees: with a key configured the document is still public.
        ApiServer secured = newServer(new HttpSettings("s3cret", List.of("*"), null));
        assertEquals(200, get(secured, "/openapi.json").statusCode());
        assertEquals(401, get(secured, "/v1/sandboxes").statusCode());
    }
}
