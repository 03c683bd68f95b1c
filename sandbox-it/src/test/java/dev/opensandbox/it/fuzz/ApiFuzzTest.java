package dev.opensandbox.it.fuzz;

import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link RouteFuzzing} against the whole server started by {@code Main} on the in-memory runtime:
 * 10,000 generated requests by default ({@code -Dfuzz.tries=N} for more, {@code -Dfuzz.seed=S} for
 * other ones), fast enough for every build.
 */
@FuzzBudget(defaultTries = 10_000, property = "fuzz.tries")
class ApiFuzzTest extends RouteFuzzing {

    private static Path dir;
    private static FuzzedServer server;

    @BeforeContainer
    static void startServer() throws IOException {
        dir = Files.createTempDirectory("api-fuzz-");
        server = FuzzedServer.inMemory(dir);
    }

    @AfterContainer
    static void stopServer() {
        finish("ApiFuzzTest (in-memory runtime)", server, dir);
    }

    @Override
    FuzzedServer server() {
        return server;
    }
}
