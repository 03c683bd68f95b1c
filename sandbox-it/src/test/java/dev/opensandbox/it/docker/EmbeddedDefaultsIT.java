package dev.opensandbox.it.docker;

import dev.opensandbox.server.Main;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the README's run command does: no configuration file at all, an API key in the
 * environment, and the server starts on its embedded defaults — the Docker runtime on the local
 * engine and a SQLite store under the home directory — and serves sandboxes.
 */
class EmbeddedDefaultsIT {

    @TempDir
    Path home;

    @BeforeAll
    static void requireEngine() {
        assumeTrue(ServerOnDockerIT.docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
    }

    @Test
    void withoutAConfigurationFileTheServerRunsOnDockerAndSqlite() throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove("SANDBOX_CONFIG_PATH");
        env.put("HOME", home.toString());
        env.put("OPENSANDBOX_SERVER_API_KEY", "readme-key");

        Main.Launch launch = Main.launch(new String[0], env, home, Clock.systemUTC());
        assertEquals(0, launch.exitCode());
        assertNotNull(launch.server());
        String id = null;
        try (Main.Server server = launch.server()) {
            assertEquals(8080, server.port(), "the embedded default port");
            assertTrue(Files.exists(home.resolve(".opensandbox/opensandbox.db")), "SQLite store under ~/.opensandbox");
            assertEquals("docker", server.runtime().type());

            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8080/v1/sandboxes"))
                .header("OPEN-SANDBOX-API-KEY", "readme-key")
                .POST(HttpRequest.BodyPublishers.ofString("{\"image\":{\"uri\":\"" + ServerOnDockerIT.IMAGE + "\"},"
                    + "\"entrypoint\":[\"sleep\",\"60\"],\"resourceLimits\":{\"memory\":\"32Mi\"},\"timeout\":120}"))
                .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, created.statusCode(), created.body());
            id = created.body().replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
            assertEquals("bridge", ServerOnDockerIT.docker("inspect", "-f", "{{.HostConfig.NetworkMode}}", "sandbox-" + id)
                .out().trim(), "the embedded default network mode is bridge (upstream: host, which shares the host's loopback)");

            HttpResponse<String> deleted = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8080/v1/sandboxes/" + id))
                .header("OPEN-SANDBOX-API-KEY", "readme-key").DELETE().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(204, deleted.statusCode());
        } finally {
            if (id != null) {
                ServerOnDockerIT.docker("rm", "-f", "sandbox-" + id);
            }
        }
    }
}
