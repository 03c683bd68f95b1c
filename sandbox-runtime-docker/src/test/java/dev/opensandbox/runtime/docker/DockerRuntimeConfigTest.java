package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.RuntimeContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DockerRuntimeConfigTest {

    @Test
    void emptySectionsGiveUpstreamDefaultsButTheBridgeNetwork() {
        DockerRuntimeConfig config = DockerRuntimeConfig.from(Map.of(), Map.of(), Map.of(), Map.of());

        assertEquals("bridge", config.networkMode(), "host mode would share the host's loopback with every sandbox");
        assertEquals(Duration.ofSeconds(180), config.apiTimeout());
        assertEquals(DockerRuntimeConfig.DEFAULT_DROP_CAPABILITIES, config.dropCapabilities());
        assertTrue(config.noNewPrivileges());
        assertEquals(4096, config.pidsLimit());
        assertEquals("0.0.0.0", config.portBindAddress());
        assertNull(config.seccompProfile());
        assertNull(config.ociRuntime());
        assertEquals(DockerRuntimeConfig.defaults(), config);
    }

    @Test
    void readsTomlShapedValues() {
        DockerRuntimeConfig config = DockerRuntimeConfig.from(
            Map.of("network_mode", "bridge", "api_timeout", 30L, "pids_limit", 0L, "no_new_privileges", false,
                "drop_capabilities", List.of("net_raw"), "host_ip", "10.0.0.2", "port_bind_address", "127.0.0.1"),
            Map.of("host", "0.0.0.0", "eip", "203.0.113.9"), Map.of("type", "gvisor"), Map.of("image", "egress:1"));

        assertEquals("bridge", config.networkMode());
        assertEquals(Duration.ofSeconds(30), config.apiTimeout());
        assertEquals(0, config.pidsLimit());
        assertEquals(List.of("NET_RAW"), config.dropCapabilities());
        assertEquals("runsc", config.ociRuntime());
        assertEquals("203.0.113.9", config.serverEip());
        assertEquals("egress:1", config.egressImage());
    }

    @Test
    void theDeploymentComesFromTheContextAndTheVisibleEnvironmentFromTheServerSection() {
        DockerRuntimeConfig config = DockerRuntimeConfig.from(new RuntimeContext(java.time.Clock.systemUTC(),
            Map.of("server", Map.of("diagnostics_visible_env", List.of("PATH", "LANG"))), Map.of(), Deployment.of("blue")));

        assertEquals(Deployment.of("blue"), config.deployment());
        assertEquals(List.of("PATH", "LANG"), config.diagnosticsVisibleEnv());
        DockerRuntimeConfig unscoped = DockerRuntimeConfig.from(new RuntimeContext(java.time.Clock.systemUTC(), Map.of(),
            Map.of()));
        assertEquals(Deployment.unscoped(), unscoped.deployment(), "the 3-argument context stays unscoped");
        assertEquals(dev.opensandbox.core.Secrets.DEFAULT_VISIBLE_ENV, unscoped.diagnosticsVisibleEnv());
    }

    @Test
    void explicitDockerRuntimeWinsOverTheType() {
        assertEquals("my-runc", DockerRuntimeConfig.from(Map.of(), Map.of(),
            Map.of("type", "kata", "docker_runtime", "my-runc"), Map.of()).ociRuntime());
        assertEquals("kata-runtime", DockerRuntimeConfig.from(Map.of(), Map.of(), Map.of("type", "kata"), Map.of())
            .ociRuntime());
    }

    @Test
    void seccompPathIsReadBecauseTheApiWantsTheContent(@TempDir Path dir) throws IOException {
        Path profile = dir.resolve("profile.json");
        Files.writeString(profile, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");

        DockerRuntimeConfig config = DockerRuntimeConfig.from(Map.of("seccomp_profile", profile.toString()), Map.of(),
            Map.of(), Map.of());

        assertEquals("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", config.seccompProfile());
    }

    @Test
    void badValuesFailAtStartupWithInitializationError() {
        for (Map<String, Object> docker : List.<Map<String, Object>>of(
            Map.of("api_timeout", 0L), Map.of("pids_limit", -1L), Map.of("api_timeout", "soon"),
            Map.of("seccomp_profile", "/does/not/exist.json"), Map.of("no_new_privileges", "maybe"))) {
            UnavailableException e = assertThrows(UnavailableException.class,
                () -> DockerRuntimeConfig.from(docker, Map.of(), Map.of(), Map.of()), docker.toString());
            assertEquals("DOCKER::INITIALIZATION_ERROR", e.code());
        }
        assertThrows(UnavailableException.class,
            () -> DockerRuntimeConfig.from(Map.of(), Map.of(), Map.of("type", "firecracker"), Map.of()));
    }
}
