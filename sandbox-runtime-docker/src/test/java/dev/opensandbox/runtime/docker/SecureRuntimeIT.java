package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code [secure_runtime]} is checked against the real engine's OCI runtimes when the runtime starts. */
class SecureRuntimeIT {

    @BeforeAll
    static void requireEngine() throws Exception {
        DockerTestEngine.connectOrSkip().close();
    }

    private static SandboxRuntime start(Map<String, Object> secureRuntime) {
        return new DockerRuntimeProvider().create(new RuntimeContext(Clock.systemUTC(),
            Map.of("secure_runtime", secureRuntime), System.getenv()));
    }

    @Test
    void gvisorWithoutRunscOnTheEngineRefusesToStart() {
        UnavailableException e = assertThrows(UnavailableException.class, () -> start(Map.of("type", "gvisor")));

        assertEquals("DOCKER::INITIALIZATION_ERROR", e.code());
        assertTrue(e.getMessage().contains("'runsc'") && e.getMessage().contains("runc"), e.getMessage());
    }

    @Test
    void anOciRuntimeTheEngineHasStarts() {
        try (SandboxRuntime runtime = start(Map.of("type", "gvisor", "docker_runtime", "runc"))) {
            assertEquals("docker", runtime.type());
        }
    }
}
