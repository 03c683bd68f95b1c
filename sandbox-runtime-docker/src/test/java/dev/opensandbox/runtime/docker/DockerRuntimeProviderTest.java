package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntimeProvider;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DockerRuntimeProviderTest {

    @Test
    void isFoundByServiceLoaderAsDocker() {
        assertTrue(ServiceLoader.load(SandboxRuntimeProvider.class).stream()
            .anyMatch(p -> p.type() == DockerRuntimeProvider.class && p.get().type().equals("docker")));
    }

    @Test
    void unreachableEngineFailsFastWithInitializationErrorAndAHint() {
        RuntimeContext context = new RuntimeContext(Clock.fixed(Instant.EPOCH, ZoneOffset.UTC),
            Map.of("docker", Map.of("api_timeout", 2L)),
            Map.of("DOCKER_HOST", "unix:///nonexistent/opensandbox-test/docker.sock"));

        UnavailableException e = assertThrows(UnavailableException.class, () -> new DockerRuntimeProvider().create(context));

        assertEquals("DOCKER::INITIALIZATION_ERROR", e.code());
        assertTrue(e.getMessage().contains("unix:///nonexistent/opensandbox-test/docker.sock"), e.getMessage());
        assertTrue(e.getMessage().contains("DOCKER_HOST"), e.getMessage());
    }

    @Test
    void aSecureRuntimeTheEngineLacksStopsTheStartNamingWhatTheEngineHas() {
        DockerRuntimeProvider.requireOciRuntime("runc", Map.of("runc", "x", "io.containerd.runc.v2", "y"));

        UnavailableException e = assertThrows(UnavailableException.class,
            () -> DockerRuntimeProvider.requireOciRuntime("runsc", Map.of("runc", "x", "io.containerd.runc.v2", "y")));

        assertEquals("DOCKER::INITIALIZATION_ERROR", e.code());
        assertTrue(e.getMessage().contains("'runsc'"), e.getMessage());
        assertTrue(e.getMessage().contains("io.containerd.runc.v2, runc"), e.getMessage());
        assertTrue(e.getMessage().contains("[secure_runtime]"), e.getMessage());
        assertThrows(UnavailableException.class, () -> DockerRuntimeProvider.requireOciRuntime("runsc", null));
    }
}
