package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NetworkPolicy;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.EndpointRequest;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pure parts of the runtime: validation, labels and host config. No engine is involved. */
class DockerSandboxRuntimeTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-06-12T15:00:00Z"), ZoneOffset.UTC);

    private static DockerSandboxRuntime runtime(DockerRuntimeConfig config) {
        return new DockerSandboxRuntime(config, null, CLOCK);
    }

    private static DockerRuntimeConfig bridge() {
        return DockerRuntimeConfig.from(Map.of("network_mode", "bridge", "port_bind_address", "127.0.0.1"), Map.of(),
            Map.of(), Map.of());
    }

    private static ProvisionRequest request(SandboxSpec spec, Instant expiresAt) {
        return new ProvisionRequest(SandboxId.parse("0b4a5f8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b"), spec, spec.image(),
            spec.entrypoint(), ResourceLimits.none(), CLOCK.instant(), expiresAt);
    }

    @Test
    void signedRoutesAreNotSupportedAsUpstream() {
        InvalidRequestException error = assertThrows(InvalidRequestException.class, () -> runtime(bridge()).resolveEndpoint(
            new EndpointRequest(SandboxId.random(), 8080, EndpointPurpose.EXTERNAL, java.math.BigInteger.valueOf(2_000_000_000L))));

        assertEquals("SANDBOX::API_NOT_SUPPORTED", error.code());
        assertTrue(error.getMessage().contains("runtime.type='docker'"), error.getMessage());
    }

    @Test
    void labelsFollowTheUpstreamContractPlusOurs() {
        SandboxSpec spec = SandboxSpec.builder().image("busybox:1.36").entrypoint("sleep", "3600")
            .metadata("team", "a").platform(new Platform("linux", "amd64"))
            .extension("access.renew.extend.seconds", " 600 ").build();

        Map<String, String> labels = runtime(bridge()).labels(
            request(spec, Instant.parse("2026-06-12T16:00:00.123456789Z")), "bridge");

        assertEquals(Map.of(
            "team", "a",
            "opensandbox.io/id", "0b4a5f8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b",
            "opensandbox.io/expires-at", "2026-06-12T16:00:00.123456+00:00",
            "opensandbox.io/platform-os", "linux",
            "opensandbox.io/platform-arch", "amd64",
            "opensandbox.io/access-renew-extend-seconds", "600",
            "opensandbox.io/image", "busybox:1.36",
            "opensandbox.io/entrypoint", "[\"sleep\",\"3600\"]",
            "opensandbox.io/network-mode", "bridge"), labels);
    }

    @Test
    void manualCleanupAndSnapshotLabels() {
        SandboxSpec spec = SandboxSpec.builder().image("snap:1").snapshotId("snap-1").entrypoint("tail", "-f", "/dev/null")
            .build();

        Map<String, String> labels = runtime(bridge()).labels(request(spec, null), "host");

        assertEquals("true", labels.get("opensandbox.io/manual-cleanup"));
        assertFalse(labels.containsKey("opensandbox.io/expires-at"));
        assertEquals("snap-1", labels.get("opensandbox.io/snapshot-id"));
    }

    @Test
    void hostConfigCarriesLimitsHardeningAndDockerChosenPorts() {
        ResourceLimits limits = new ResourceLimits(Map.of("memory", "512Mi", "cpu", "500m", "gpu", "all"),
            OptionalLong.of(512L * 1024 * 1024), OptionalLong.of(500), OptionalInt.of(ResourceLimits.ALL_GPUS));

        HostConfig host = runtime(bridge()).hostConfig(limits, "bridge");

        assertEquals(512L * 1024 * 1024, host.getMemory());
        assertEquals(500_000_000L, host.getNanoCPUs());
        assertEquals(-1, host.getDeviceRequests().get(0).getCount());
        assertEquals(List.of(List.of("gpu")), host.getDeviceRequests().get(0).getCapabilities());
        assertEquals(List.of("no-new-privileges:true"), host.getSecurityOpts());
        assertEquals(DockerRuntimeConfig.DEFAULT_DROP_CAPABILITIES.size(), host.getCapDrop().length);
        assertEquals(Capability.AUDIT_WRITE, host.getCapDrop()[0]);
        assertEquals(4096L, host.getPidsLimit());
        assertEquals("bridge", host.getNetworkMode());
        var bindings = host.getPortBindings().getBindings();
        assertEquals("127.0.0.1", bindings.get(ExposedPort.tcp(44772))[0].getHostIp());
        assertNull(bindings.get(ExposedPort.tcp(8080))[0].getHostPortSpec(), "Docker chooses the host port");
    }

    @Test
    void hostModePublishesNothingAndZeroPidsLimitMeansUnlimited() {
        DockerRuntimeConfig config = DockerRuntimeConfig.from(Map.of("pids_limit", 0L, "apparmor_profile", "p",
            "seccomp_profile", "unconfined"), Map.of(), Map.of("docker_runtime", "runsc"), Map.of());

        HostConfig host = runtime(config).hostConfig(ResourceLimits.none(), "host");

        assertNull(host.getPortBindings());
        assertNull(host.getPidsLimit());
        assertNull(host.getMemory());
        assertEquals("runsc", host.getRuntime());
        assertEquals(List.of("no-new-privileges:true", "apparmor=p", "seccomp=unconfined"), host.getSecurityOpts());
    }

    @Test
    void unsupportedRequestsAreRefusedWithInvalidParameter() {
        DockerSandboxRuntime runtime = runtime(bridge());
        SandboxSpec.Builder base = SandboxSpec.builder().image("busybox").entrypoint("sleep", "1");

        InvalidRequestException policy = assertThrows(InvalidRequestException.class,
            () -> runtime.validate(base.networkPolicy(new NetworkPolicy("deny", List.of())).build()));
        InvalidRequestException windows = assertThrows(InvalidRequestException.class,
            () -> runtime.validate(SandboxSpec.builder().image("w").entrypoint("x")
                .platform(new Platform("windows", "amd64")).build()));

        assertEquals("SANDBOX::INVALID_PARAMETER", policy.code());
        assertEquals("egress.image must be configured when networkPolicy is provided.", policy.getMessage());
        assertEquals("platform.os 'windows' is not supported by this server's Docker runtime.", windows.getMessage());
        runtime.validate(SandboxSpec.builder().image("busybox").entrypoint("sleep", "1").timeout(Duration.ofMinutes(5))
            .build());
    }

    @Test
    void hostAndNamedVolumesAreAcceptedAndOssfsIsRefusedWithoutItsCredentialsInTheMessage() {
        SandboxSpec host = SandboxSpec.builder().image("busybox").entrypoint("sleep", "1")
            .volume(new VolumeSpec("data", "/data", false, null, new VolumeBackend.Host("/srv/data"))).build();
        runtime(bridge()).validate(host);

        SandboxSpec ossfs = SandboxSpec.builder().image("busybox").entrypoint("sleep", "1")
            .volume(new VolumeSpec("oss", "/oss", false, null,
                new VolumeBackend.Ossfs("bucket", "oss.example.com", "2.0", List.of(), "AK-ID", "AK-SECRET"))).build();
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> runtime(bridge()).validate(ossfs));

        assertEquals("VOLUME::OSSFS_UNAVAILABLE", e.code());
        assertTrue(e.getMessage().contains("oss") && !e.getMessage().contains("AK-SECRET"), e.getMessage());
    }

    @Test
    void unknownCapabilityFailsAtStartup() {
        DockerRuntimeConfig config = DockerRuntimeConfig.from(Map.of("drop_capabilities", List.of("CAP_NET_RAW", "NOPE")),
            Map.of(), Map.of(), Map.of());

        UnavailableException e = assertThrows(UnavailableException.class, () -> runtime(config));
        assertTrue(e.getMessage().contains("NOPE"), e.getMessage());
    }

    @Test
    void filePathsMustBeAbsoluteWithoutDotDot() {
        assertEquals(List.of("tmp", "a", "b"), DockerSandboxRuntime.pathSegments("/tmp//a/./b"));
        assertThrows(InvalidRequestException.class, () -> DockerSandboxRuntime.pathSegments("tmp/a"));
        assertThrows(InvalidRequestException.class, () -> DockerSandboxRuntime.pathSegments("/tmp/../etc/passwd"));
    }

    @Test
    void imagePlatformMatchingNormalizesArchitectureAliases() {
        var amd64Image = new com.github.dockerjava.api.command.InspectImageResponse().withOs("linux").withArch("x86_64");
        var arm64Image = new com.github.dockerjava.api.command.InspectImageResponse().withOs("linux").withArch("aarch64");

        org.junit.jupiter.api.Assertions.assertTrue(
            DockerSandboxRuntime.matchesPlatform(amd64Image, new dev.opensandbox.core.Platform("linux", "amd64")));
        org.junit.jupiter.api.Assertions.assertFalse(
            DockerSandboxRuntime.matchesPlatform(amd64Image, new dev.opensandbox.core.Platform("linux", "arm64")));
        org.junit.jupiter.api.Assertions.assertTrue(
            DockerSandboxRuntime.matchesPlatform(arm64Image, new dev.opensandbox.core.Platform("linux", "arm64")));
        org.junit.jupiter.api.Assertions.assertFalse(
            DockerSandboxRuntime.matchesPlatform(amd64Image, new dev.opensandbox.core.Platform("windows", "amd64")));
    }

    @Test
    void colonsInBindPathsAreRefusedBeforeAnyVolumeIsMade() {
        DockerSandboxRuntime runtime = runtime(bridge());
        List<VolumeSpec> bad = List.of(
            new VolumeSpec("data", "/mnt/a:b", false, null, new VolumeBackend.Host("/data/x")),
            new VolumeSpec("data", "/mnt/x", false, "a:b", new VolumeBackend.Host("/data/x")),
            new VolumeSpec("data", "/mnt/x", false, null, new VolumeBackend.Host("/data/x:rw")),
            new VolumeSpec("data", "/mnt/x", false, "sub:dir", new VolumeBackend.Pvc("claim", true, false, null, null, null)));
        List<String> codes = List.of("VOLUME::INVALID_MOUNT_PATH", "VOLUME::INVALID_SUB_PATH", "VOLUME::INVALID_HOST_PATH",
            "VOLUME::INVALID_SUB_PATH");
        for (int i = 0; i < bad.size(); i++) {
            SandboxSpec spec = SandboxSpec.builder().image("busybox").entrypoint("sleep", "1").resourceLimits(Map.of())
                .volumes(List.of(bad.get(i))).build();
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> runtime.validate(spec));
            assertEquals(codes.get(i), e.code(), e.getMessage());
            assertTrue(e.getMessage().contains("contains ':'"), e.getMessage());
        }
    }

    @Test
    void limitsTheEngineRefusesAreInvalidParameters() {
        DockerSandboxRuntime runtime = runtime(bridge());
        for (Map<String, String> limits : List.of(Map.of("memory", "7"), Map.of("memory", "6291455"), Map.of("cpu", "9m"),
            Map.of("cpu", "0.001"))) {
            SandboxSpec spec = SandboxSpec.builder().image("busybox").entrypoint("sleep", "1").resourceLimits(limits).build();
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> runtime.validate(spec),
                limits.toString());
            assertEquals("SANDBOX::INVALID_PARAMETER", e.code());
            assertTrue(e.getMessage().contains("Docker needs at least"), e.getMessage());
        }
        runtime.validate(SandboxSpec.builder().image("busybox").entrypoint("sleep", "1")
            .resourceLimits(Map.of("memory", "6Mi", "cpu", "10m")).build());
    }

    @Test
    void aScopedRuntimeStampsItsDeploymentAndAnUnscopedOneNothing() {
        SandboxSpec spec = SandboxSpec.builder().image("busybox:1.36").entrypoint("sleep", "3600").build();
        ProvisionRequest request = request(spec, null);

        Map<String, String> scoped = runtime(bridge().withDeployment(dev.opensandbox.core.spi.Deployment.of("blue")))
            .labels(request, "bridge");
        Map<String, String> unscoped = runtime(bridge()).labels(request, "bridge");

        assertEquals("blue", scoped.get("opensandbox.io/deployment"));
        assertFalse(unscoped.containsKey("opensandbox.io/deployment"), unscoped.toString());
    }

    @Test
    void onlyContainersOlderThanTheGraceCountAsOrphans() {
        Duration grace = runtime(bridge()).orphanGrace();
        assertEquals(Duration.ofSeconds(30 + 3 * 180), grace, "the health wait plus three API timeouts");
        com.github.dockerjava.api.model.Container young = new com.github.dockerjava.api.model.Container();
        Instant now = CLOCK.instant();

        assertTrue(DockerSandboxRuntime.youngerThan(young, grace, now), "no creation time: treated as young");
        assertTrue(DockerSandboxRuntime.youngerThan(created(now.minus(grace).plusSeconds(1)), grace, now));
        assertFalse(DockerSandboxRuntime.youngerThan(created(now.minus(grace)), grace, now));
    }

    private static com.github.dockerjava.api.model.Container created(Instant at) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readValue("{\"Created\":" + at.getEpochSecond() + "}",
                com.github.dockerjava.api.model.Container.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    @org.junit.jupiter.api.Test
    void aProgramTheImageLacksIsTheRequestsMistakeOnlyWhenItIsTheRequestedOne() {
        String escaped = "failed to create shim task: OCI runtime create failed: runc create failed: unable to start "
            + "container process: exec: \\\"/nonexistent\\\": stat /nonexistent: no such file or directory: unknown";
        org.junit.jupiter.api.Assertions.assertTrue(DockerSandboxRuntime.programMissingFromImage(
            java.util.List.of("/nonexistent", "3600"), escaped));
        org.junit.jupiter.api.Assertions.assertTrue(DockerSandboxRuntime.programMissingFromImage(java.util.List.of("python3"),
            "exec: \"python3\": executable file not found in $PATH: unknown"));
        org.junit.jupiter.api.Assertions.assertFalse(DockerSandboxRuntime.programMissingFromImage(
            java.util.List.of("sleep", "1"), "exec: \"/opt/opensandbox/bootstrap.sh\": no such file or directory"),
            "the server's own wrapper failing stays the server's failure");
        org.junit.jupiter.api.Assertions.assertFalse(DockerSandboxRuntime.programMissingFromImage(
            java.util.List.of("sleep"), "cgroup: cannot set memory limit"));
    }

    @org.junit.jupiter.api.Test
    void aFilePathWithANameLongerThanTheFilesystemTakesIsInvalid() {
        org.junit.jupiter.api.Assertions.assertThrows(dev.opensandbox.core.InvalidRequestException.class,
            () -> DockerSandboxRuntime.pathSegments("/tmp/" + "n".repeat(256)));
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of("tmp", "n".repeat(255)),
            DockerSandboxRuntime.pathSegments("/tmp/" + "n".repeat(255)));
    }
}
