package dev.opensandbox.it.fuzz;

import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link RouteFuzzing} against the whole server on the real Docker engine (bridge network mode,
 * so that the proxy only ever dials this test's containers): 1,000 generated requests by default
 * ({@code -Dfuzz.docker.tries=N}). Fixtures and every sandbox a generated create made run on an
 * image tag of this run and carry its {@code fuzz-run} label; all of it is removed afterwards.
 */
@FuzzBudget(defaultTries = 1_000, property = "fuzz.docker.tries")
class ApiFuzzOnDockerIT extends RouteFuzzing {

    static final String IMAGE = System.getenv().getOrDefault("OPENSANDBOX_TEST_BUSYBOX_IMAGE",
        "opensandbox-test/busybox:latest");

    private static Path dir;
    private static FuzzedServer server;

    @BeforeContainer
    static void startServer() throws IOException {
        if (!DockerCli.engineAvailable()) {
            throw new TestAbortedException("no Docker engine reachable: `docker info` failed");
        }
        dir = Files.createTempDirectory("api-fuzz-docker-");
        server = FuzzedServer.onDocker(dir, IMAGE);
    }

    @AfterContainer
    static void stopServer() {
        finish("ApiFuzzOnDockerIT (Docker runtime)", server, dir);
    }

    @Override
    FuzzedServer server() {
        return server;
    }
}
