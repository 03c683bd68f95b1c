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
}
