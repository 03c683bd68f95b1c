package dev.opensandbox.it.secure;

import dev.opensandbox.it.fuzz.LaunchedServer;
import dev.opensandbox.server.Main;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server started as {@code main} starts it ({@code Main.launch}: configuration file, API-key
 * guard, logging) refuses to run without an API key unless someone acknowledged insecure mode
 * with exactly {@code OPENSANDBOX_INSECURE_SERVER=YES}; with a key, every API route wants it.
 */
class StartupGuardTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    private LaunchedServer.Config inMemory() {
        return LaunchedServer.config(dir, "in-memory");
    }

    @Test
    @DisplayName("without an API key and without acknowledgement, start is refused with exit code 1 and a reason in the log")
    void withoutAnApiKeyStartIsRefused() throws IOException {
        Main.Launch launch = inMemory().launch(Map.of(), Clock.systemUTC());

        assertEquals(1, launch.exitCode());
        assertNull(launch.server(), "no server runs");
        String log = Files.readString(dir.resolve("server.log"));
        assertTrue(log.contains("server.api_key is empty") && log.contains("OPENSANDBOX_INSECURE_SERVER"),
            "the log says why and how to proceed:\n" + log);
    }

    @Test
    void aBlankApiKeyCountsAsNone() {
        Main.Launch launch = inMemory().set("server", "api_key", "\"   \"").launch(Map.of(), Clock.systemUTC());

        assertEquals(1, launch.exitCode());
        assertNull(launch.server());
    }

    @ParameterizedTest
    @ValueSource(strings = {"yes", "true", "1", "Y", "YES ", ""})
    void onlyExactlyYesAcknowledgesInsecureMode(String value) {
        Main.Launch launch = inMemory().launch(Map.of("OPENSANDBOX_INSECURE_SERVER", value), Clock.systemUTC());

        assertEquals(1, launch.exitCode(), "OPENSANDBOX_INSECURE_SERVER=" + value + " must not start an open server");
        assertNull(launch.server());
    }

    @Test
    @DisplayName("OPENSANDBOX_INSECURE_SERVER=YES starts a server without authentication, with a warning in the log")
    void theAcknowledgementStartsAnOpenServer() throws Exception {
        try (LaunchedServer server = inMemory().start(Map.of("OPENSANDBOX_INSECURE_SERVER", "YES"), Clock.systemUTC())) {
            assertEquals(200, get(server, "/v1/sandboxes", null).statusCode());
            assertTrue(server.logs().contains("Authentication is DISABLED"), "the open server is announced:\n" + server.logs());
        }
    }

    @Test
    @DisplayName("with an API key every API route requires it: none or a wrong one is 401 JSON, the right one passes")
    void withAKeyEveryApiRouteRequiresIt() throws Exception {
        try (LaunchedServer server = inMemory().set("server", "api_key", "\"startup-key\"").start(Map.of(), Clock.systemUTC())) {
            for (String path : new String[] {"/sandboxes", "/v1/sandboxes", "/v1/snapshots", "/pools"}) {
                HttpResponse<String> none = get(server, path, null);
                assertEquals(401, none.statusCode(), path);
                assertTrue(none.body().contains("\"MISSING_API_KEY\""), none.body());
                assertEquals("application/json", none.headers().firstValue("Content-Type").orElse("").split(";")[0]);
                HttpResponse<String> wrong = get(server, path, "startup-key-but-longer");
                assertEquals(401, wrong.statusCode(), path);
                assertTrue(wrong.body().contains("\"INVALID_API_KEY\""), wrong.body());
                assertFalse(get(server, path, "startup-key").statusCode() == 401, path + " with the right key");
            }
            assertEquals(200, get(server, "/health", null).statusCode(), "/health stays public");
        }
    }

    @Test
    void anApiKeyFromTheEnvironmentIsEnough() throws Exception {
        try (LaunchedServer server = inMemory().start(Map.of("OPENSANDBOX_SERVER_API_KEY", "env-key"), Clock.systemUTC())) {
            assertEquals(401, get(server, "/v1/sandboxes", null).statusCode());
            assertEquals(200, get(server, "/v1/sandboxes", "env-key").statusCode());
        }
    }

    private static HttpResponse<String> get(LaunchedServer server, String path, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.base() + path)).timeout(Duration.ofSeconds(10));
        if (key != null) {
            request.header("OPEN-SANDBOX-API-KEY", key);
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertNotNull(response.body());
        return response;
    }
}
