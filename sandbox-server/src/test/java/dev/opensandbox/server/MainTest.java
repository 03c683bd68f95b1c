package dev.opensandbox.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Start-up paths of {@link Main} that end before a server runs. */
class MainTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path home;

    /** Main configures logging for a real server; give the other tests in this JVM their test set-up back. */
    @org.junit.jupiter.api.AfterAll
    static void restoreTestLogging() throws Exception {
        ch.qos.logback.classic.LoggerContext context =
            (ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        context.reset();
        new ch.qos.logback.classic.util.ContextInitializer(context).autoConfig();
    }

    @Test
    void aMalformedConfigurationFileStopsStartWithExitCode1() throws IOException {
        Path config = Files.writeString(home.resolve("bad.toml"), "[server\nport = 1");

        assertEquals(1, Main.run(new String[] {"--config", config.toString()}, Map.of(), home, CLOCK));
    }

    @Test
    void withoutAnApiKeyANonInteractiveStartIsBlockedBeforeAnyStoreIsOpened() throws IOException {
        Path store = home.resolve("store.db");
        Path config = Files.writeString(home.resolve("c.toml"),
            "[runtime]\ntype = \"in-memory\"\n[store]\npath = \"" + store + "\"\n");

        assertEquals(1, Main.run(new String[] {"--config", config.toString()}, Map.of(), home, CLOCK));
        assertTrue(Files.notExists(store), "the guard runs before any side effect");
    }

    @Test
    void anUnknownRuntimeTypeStopsStartWithExitCode1() throws IOException {
        Path config = Files.writeString(home.resolve("c.toml"),
            "[server]\napi_key = \"k\"\n[runtime]\ntype = \"no-such-runtime\"\n[store]\ntype = \"memory\"\n");

        assertEquals(1, Main.run(new String[] {"--config", config.toString()}, Map.of(), home, CLOCK));
    }

    @Test
    void initConfigWritesAFileTheServerCanLoad() {
        Path target = home.resolve("generated.toml");

        assertEquals(0, Main.run(new String[] {"init-config", target.toString()}, Map.of(), home, CLOCK));
        assertTrue(Files.exists(target));
        assertEquals(0, Main.run(new String[] {"--help"}, Map.of(), home, CLOCK));
    }

    @Test
    void anUnknownArgumentIsAUsageError() {
        assertEquals(2, Main.run(new String[] {"--port", "1"}, Map.of(), home, CLOCK));
    }

    @Test
    void theDeploymentIdIsTheConfiguredOneElseTheStoresElseOneDerivedFromThePort() throws IOException {
        dev.opensandbox.server.config.ConfigLoader loader = new dev.opensandbox.server.config.ConfigLoader(Map.of(), home);
        Path configured = Files.writeString(home.resolve("a.toml"),
            "[runtime]\ntype = \"in-memory\"\n[deployment]\nid = \"team-a\"\nadopt_unlabelled = true\n");
        Path plain = Files.writeString(home.resolve("b.toml"), "[runtime]\ntype = \"in-memory\"\n[server]\nport = 8123\n");

        try (var sqlite = dev.opensandbox.server.store.JdbcSandboxStore.openSqlite(home.resolve("s.db"));
             var memory = new dev.opensandbox.core.store.InMemorySandboxStore()) {
            var fromConfig = Main.Server.deployment(loader.loadFile(configured).config(), sqlite);
            assertEquals(new dev.opensandbox.core.spi.Deployment("team-a", true), fromConfig);

            var fromStore = Main.Server.deployment(loader.loadFile(plain).config(), sqlite);
            assertEquals(sqlite.deploymentId().orElseThrow(), fromStore.id());
            assertEquals(false, fromStore.adoptUnlabelled());

            assertEquals("local-8123", Main.Server.deployment(loader.loadFile(plain).config(), memory).id());
        }
    }

    @Test
    void aDeploymentIdThatIsNotALabelValueStopsStart() throws IOException {
        Path config = Files.writeString(home.resolve("c.toml"),
            "[server]\napi_key = \"k\"\n[runtime]\ntype = \"in-memory\"\n[deployment]\nid = \"Team A\"\n");

        assertEquals(1, Main.run(new String[] {"--config", config.toString()}, Map.of(), home, CLOCK));
    }

    @Test
    void theConfiguredResourceMaximaReachTheCreateRules() throws Exception {
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path config = Files.writeString(home.resolve("c.toml"), "[server]\nhost = \"127.0.0.1\"\nport = " + port
            + "\napi_key = \"k\"\nmax_resource_limits = { memory = \"4Gi\" }\n[runtime]\ntype = \"in-memory\"\n"
            + "[store]\ntype = \"memory\"\n");
        Main.Launch launch = Main.launch(new String[] {"--config", config.toString()}, Map.of(), home, CLOCK);
        try (Main.Server server = launch.server()) {
            java.net.http.HttpResponse<String> refused = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/v1/sandboxes"))
                    .header("OPEN-SANDBOX-API-KEY", "k").header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"image\":{\"uri\":\"busybox\"},"
                        + "\"entrypoint\":[\"sleep\",\"60\"],\"timeout\":600,\"resourceLimits\":{\"memory\":\"8Gi\"}}"))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString());

            assertEquals(400, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("4Gi"), refused.body());
        }
    }
}
