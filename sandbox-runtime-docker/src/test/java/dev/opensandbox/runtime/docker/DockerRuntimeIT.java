package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.ExposedPort;
import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.FileInfo;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.ResourceUsage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Docker runtime against the real engine: what the kit does not cover. */
class DockerRuntimeIT {

    /**
     * A registry on loopback port 9, where nothing listens: the engine's pull fails at once and
     * nothing is sent off this machine (a plain name would make the engine ask Docker Hub).
     */
    private static final String MISSING_IMAGE_PREFIX = "127.0.0.1:9/opensandbox-test/does-not-exist:";

    private static DockerTestEngine engine;
    private static DockerSandboxRuntime bridge;
    private static DockerSandboxRuntime host;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void connect() {
        engine = DockerTestEngine.connectOrSkip();
        bridge = engine.runtime(Map.of("network_mode", "bridge", "port_bind_address", "127.0.0.1"));
        host = engine.runtime(Map.of("network_mode", "host"));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void failedPullOfAMissingImageLeavesNoContainer() {
        ProvisionRequest request = DockerTestEngine.request(engine.spec("sleep", "1")
            .image(MISSING_IMAGE_PREFIX + UUID.randomUUID()).build());

        RuntimeFailureException e = assertThrows(RuntimeFailureException.class, () -> bridge.create(request));

        assertEquals("DOCKER::SANDBOX_IMAGE_PULL_FAILED", e.code());
        assertTrue(e.getMessage().startsWith("Failed to pull image " + MISSING_IMAGE_PREFIX), e.getMessage());
        assertEquals(List.of(), engine.containersOf(request.id()));
    }

    @Test
    void aProgramTheImageLacksIsTheRequestsMistakeAndItsContainerIsRemoved() {
        ProvisionRequest request = DockerTestEngine.request(engine.spec("/no/such/binary").build());

        dev.opensandbox.core.InvalidRequestException e = assertThrows(dev.opensandbox.core.InvalidRequestException.class,
            () -> bridge.create(request));

        assertEquals("DOCKER::INVALID_ENTRYPOINT", e.code());
        assertTrue(e.getMessage().startsWith("entrypoint[0] '/no/such/binary' cannot be started in image "), e.getMessage());
        assertEquals(List.of(), engine.containersOf(request.id()));
        assertEquals(Optional.empty(), bridge.inspect(request.id()));
    }

    @Test
    void aGpuOnAnEngineWithoutAGpuDriverIsTheRequestsFaultAndLeavesNoContainer() {
        Assumptions.assumeTrue(engine.raw.infoCmd().exec().getRuntimes() == null
            || !engine.raw.infoCmd().exec().getRuntimes().containsKey("nvidia"), "this engine has a GPU runtime");
        ResourceLimits gpu = new ResourceLimits(Map.of("gpu", "1"), OptionalLong.empty(), OptionalLong.empty(),
            OptionalInt.of(1));
        ProvisionRequest request = DockerTestEngine.request(engine.spec("sleep", "3600").build(), gpu);

        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> bridge.create(request));

        assertEquals("SANDBOX::INVALID_PARAMETER", e.code());
        assertTrue(e.getMessage().startsWith("Invalid resourceLimits.gpu: this Docker engine has no GPU device driver"),
            e.getMessage());
        assertEquals(List.of(), engine.containersOf(request.id()));
    }

    @Test
    void containerCarriesUpstreamLabelsLimitsAndHardening() {
        ResourceLimits limits = new ResourceLimits(Map.of("memory", "64Mi", "cpu", "500m"),
            OptionalLong.of(64L * 1024 * 1024), OptionalLong.of(500), OptionalInt.empty());
        ProvisionRequest request = DockerTestEngine.request(engine.spec("sleep", "3600").build(), limits);

        Sandbox created = bridge.create(request);
        InspectContainerResponse container = engine.raw.inspectContainerCmd("sandbox-" + request.id()).exec();

        assertEquals(SandboxState.RUNNING, created.status().state());
        assertEquals("Sandbox container started successfully.", created.status().message());
        Map<String, String> labels = container.getConfig().getLabels();
        assertEquals(request.id().toString(), labels.get(Labels.ID));
        assertEquals(PythonTime.isoformat(request.expiresAt()), labels.get(Labels.EXPIRES_AT));
        assertTrue(labels.get(Labels.EXPIRES_AT).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{6})?\\+00:00"));
        assertEquals(List.of("sleep", "3600"), Arrays.asList(container.getConfig().getEntrypoint()));
        assertTrue(container.getConfig().getCmd() == null || container.getConfig().getCmd().length == 0,
            "the image's CMD is not appended");
        assertEquals(64L * 1024 * 1024, container.getHostConfig().getMemory());
        assertEquals(500_000_000L, container.getHostConfig().getNanoCPUs());
        assertEquals(4096L, container.getHostConfig().getPidsLimit());
        assertTrue(container.getHostConfig().getSecurityOpts().contains("no-new-privileges:true"));
        assertTrue(Arrays.asList(container.getHostConfig().getCapDrop()).contains(Capability.NET_RAW));
        assertEquals("127.0.0.1", container.getHostConfig().getPortBindings().getBindings()
            .get(ExposedPort.tcp(44772))[0].getHostIp());
    }

    @Test
    void bridgeEndpointsReachAServerInsideTheSandbox() throws Exception {
        Sandbox sandbox = bridge.create(DockerTestEngine.request(engine.spec("sh", "-c",
            "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www").build()));

        String external = bridge.resolveEndpoint(sandbox.id(), 8080, EndpointPurpose.EXTERNAL).address();
        String internal = bridge.resolveEndpoint(sandbox.id(), 8080, EndpointPurpose.INTERNAL).address();
        String execd = bridge.resolveEndpoint(sandbox.id(), 44772, EndpointPurpose.EXTERNAL).address();

        assertTrue(external.matches("127\\.0\\.0\\.1:\\d+"), external);
        assertTrue(internal.matches("\\d+\\.\\d+\\.\\d+\\.\\d+:8080"), internal);
        assertTrue(execd.matches("127\\.0\\.0\\.1:\\d+/proxy/44772"), execd);
        assertNotEquals(external.split(":")[1], execd.split(":")[1].split("/")[0], "distinct host ports");
        for (String address : List.of(external, internal)) {
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> get("http://" + address + "/index.html"), "hello\n"::equals);
        }
    }

    @Test
    void theProxyIsRefusedForHostModeSandboxesWhoseClientsGetTheHostPort() {
        Sandbox sandbox = host.create(DockerTestEngine.request(engine.spec("sleep", "3600").build()));

        ConflictException refused = assertThrows(ConflictException.class,
            () -> host.resolveEndpoint(sandbox.id(), 8080, EndpointPurpose.INTERNAL));

        assertEquals("DOCKER::PROXY_UNAVAILABLE_IN_HOST_MODE", refused.code());
        assertTrue(refused.getMessage().contains("Reach port 8080 directly"),
            refused.getMessage());
        assertTrue(host.resolveEndpoint(sandbox.id(), 8080, EndpointPurpose.EXTERNAL).address().endsWith(":8080"));
    }

    @Test
    void aContainerStoppedOutsideTheServerIsNotRunningForEveryEndpoint() {
        for (DockerSandboxRuntime runtime : List.of(bridge, host)) {
            Sandbox sandbox = runtime.create(DockerTestEngine.request(engine.spec("sleep", "3600").build()));
            engine.raw.stopContainerCmd("sandbox-" + sandbox.id()).withTimeout(0).exec();

            for (EndpointPurpose purpose : EndpointPurpose.values()) {
                ConflictException stopped = assertThrows(ConflictException.class,
                    () -> runtime.resolveEndpoint(sandbox.id(), 44772, purpose), purpose.toString());
                assertEquals("DOCKER::SANDBOX_NOT_RUNNING", stopped.code());
                assertTrue(stopped.getMessage().contains("is not running (its container is exited)"), stopped.getMessage());
            }
            runtime.remove(sandbox.id());
        }
    }

    private static String get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void upstreamCreatedContainerIsAdoptedWithItsExpiry() {
        SandboxId id = SandboxId.random();
        Instant expiresAt = Clock.systemUTC().instant().plus(Duration.ofMinutes(30)).truncatedTo(ChronoUnit.MICROS)
            .plusNanos(123_000);
        String containerId = engine.raw.createContainerCmd(DockerTestEngine.TEST_IMAGE)
            .withName("sandbox-" + id)
            .withLabels(Map.of(Labels.ID, id.toString(), Labels.EXPIRES_AT, PythonTime.isoformat(expiresAt),
                "team", "upstream", DockerTestEngine.RUN_LABEL, engine.runId))
            .withCmd("sleep", "3600")
            .exec().getId();
        engine.raw.startContainerCmd(containerId).exec();

        Sandbox listed = host.list().stream().filter(s -> s.id().equals(id)).findFirst().orElseThrow();
        Sandbox inspected = host.inspect(id).orElseThrow();

        for (Sandbox sandbox : List.of(listed, inspected)) {
            assertEquals(expiresAt.truncatedTo(ChronoUnit.MICROS), sandbox.expiresAt());
            assertEquals(SandboxState.RUNNING, sandbox.status().state());
            assertEquals(DockerTestEngine.TEST_IMAGE, sandbox.image());
            assertEquals(List.of("sleep", "3600"), sandbox.entrypoint());
            assertEquals("upstream", sandbox.metadata().get("team"));
        }
        // Created on the default bridge: the proxy dials the container, whatever today's network_mode says (W10).
        String internal = host.resolveEndpoint(id, 44772, EndpointPurpose.INTERNAL).address();
        assertTrue(internal.matches("\\d+\\.\\d+\\.\\d+\\.\\d+:44772") && !internal.startsWith("127."), internal);

        host.remove(id);
        assertEquals(Optional.empty(), host.inspect(id));
    }

    @Test
    void reapOrphansRemovesSidecarsOfVanishedSandboxesOnly() {
        Deployment deployment = DockerTestEngine.newDeployment();
        String owner = deployment.id();
        // A day ahead: the orphan is past the grace that protects creates of other server processes.
        DockerSandboxRuntime reaper = engine.runtime(DockerRuntimeConfig.from(Map.of("network_mode", "host"), Map.of(),
            Map.of(), Map.of()), deployment, Duration.ofDays(1));
        SandboxId live = SandboxId.random();
        String liveSandbox = startLabelled("sandbox-" + live, Map.of(Labels.ID, live.toString(), Labels.DEPLOYMENT, owner));
        String liveSidecar = startLabelled("sandbox-egress-" + live, Map.of(Labels.EGRESS_SIDECAR_FOR, live.toString(),
            Labels.DEPLOYMENT, owner));
        SandboxId vanished = SandboxId.random();
        String orphan = startLabelled("sandbox-egress-" + vanished, Map.of(Labels.EGRESS_SIDECAR_FOR, vanished.toString(),
            Labels.DEPLOYMENT, owner));

        engine.runtime(DockerRuntimeConfig.from(Map.of("network_mode", "host"), Map.of(), Map.of(), Map.of()), deployment,
            Duration.ZERO).reapOrphans();
        assertTrue(engine.raw.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(DockerTestEngine.RUN_LABEL,
            engine.runId)).exec().stream().anyMatch(c -> c.getId().equals(orphan)),
            "a young orphan is left to the grace period");
        reaper.reapOrphans();

        // Bounded wait: a removal another process already started finishes on its own.
        await("the orphan sidecar is removed").atMost(Duration.ofSeconds(10))
            .until(() -> engine.raw.listContainersCmd().withShowAll(true).withIdFilter(List.of(orphan)).exec().isEmpty());
        List<String> remaining = engine.raw.listContainersCmd().withShowAll(true)
            .withLabelFilter(Map.of(DockerTestEngine.RUN_LABEL, engine.runId)).exec()
            .stream().map(c -> c.getId()).toList();
        assertTrue(remaining.contains(liveSandbox) && remaining.contains(liveSidecar), remaining.toString());
        reaper.remove(live);
        assertTrue(engine.raw.listContainersCmd().withShowAll(true)
            .withLabelFilter(Map.of(DockerTestEngine.RUN_LABEL, engine.runId)).exec().stream()
            .noneMatch(c -> c.getId().equals(liveSidecar)), "remove takes the sandbox's sidecar with it");
    }

    private String startLabelled(String name, Map<String, String> labels) {
        Map<String, String> all = new java.util.HashMap<>(labels);
        all.put(DockerTestEngine.RUN_LABEL, engine.runId);
        String containerId = engine.raw.createContainerCmd(DockerTestEngine.TEST_IMAGE).withName(name).withLabels(all)
            .withCmd("sleep", "3600").exec().getId();
        engine.raw.startContainerCmd(containerId).exec();
        return containerId;
    }

    @Test
    void pauseAndResumeConflictsCarryUpstreamCodes() {
        Sandbox sandbox = host.create(DockerTestEngine.request(engine.spec("sleep", "3600").build()));

        host.pause(sandbox.id());
        ConflictException pausedTwice = assertThrows(ConflictException.class, () -> host.pause(sandbox.id()));
        host.resume(sandbox.id());
        ConflictException resumedRunning = assertThrows(ConflictException.class, () -> host.resume(sandbox.id()));

        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", pausedTwice.code());
        assertEquals("Sandbox is not in a running state.", pausedTwice.getMessage());
        assertEquals("DOCKER::SANDBOX_NOT_PAUSED", resumedRunning.code());
        assertEquals("Sandbox is not in a paused state.", resumedRunning.getMessage());
    }

    @Test
    void exitCodeIsReportedByInspectAndByList() {
        Sandbox sandbox = host.create(DockerTestEngine.request(engine.spec("sh", "-c", "exit 3").build()));

        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
            .until(() -> host.inspect(sandbox.id()).orElseThrow().status().state() == SandboxState.FAILED);
        Sandbox listed = host.list().stream().filter(s -> s.id().equals(sandbox.id())).findFirst().orElseThrow();

        assertEquals("Sandbox container exited with code 3.", host.inspect(sandbox.id()).orElseThrow().status().message());
        assertEquals("Sandbox container exited with code 3.", listed.status().message());
        assertThrows(ConflictException.class, () -> host.pause(sandbox.id()));
    }

    @Test
    void logsAreTimestampedAndTailed() {
        Sandbox sandbox = host.create(DockerTestEngine.request(engine.spec("sh", "-c",
            "echo one; echo two >&2; exec sleep 3600").build()));

        AtomicReference<String> logs = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
            .until(() -> {
                logs.set(host.logs(sandbox.id(), 100, null));
                return logs.get().contains("one") && logs.get().contains("two");
            });
        String tailed = host.logs(sandbox.id(), 1, Instant.EPOCH);

        for (String line : logs.get().split("\n")) {
            assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT[^ ]+Z (one|two)"), line);
        }
        assertEquals(1, tailed.strip().split("\n").length, tailed);
    }

    @Test
    void statsOfARunningSandboxAreOneSaneSample() {
        Sandbox sandbox = host.create(DockerTestEngine.request(engine.spec("sleep", "3600").build()));
        long hostCpus = engine.raw.infoCmd().exec().getNCPU();

        ResourceUsage usage = host.stats(sandbox.id());

        assertEquals(hostCpus, usage.cpuCount(), 1e-9, "without a CPU limit: the host's online CPUs");
        assertTrue(usage.memoryLimitBytes() > 0, usage.toString());
        assertTrue(usage.cpuUsedPercent() >= 0 && usage.cpuUsedPercent() <= 100, usage.toString());
        assertTrue(usage.memoryUsedBytes() > 0, usage.toString());
        assertTrue(usage.memoryUsedBytes() <= usage.memoryLimitBytes(), usage.toString());
    }

    @Test
    void statsReportTheSandboxesOwnLimits() {
        ResourceLimits limits = new ResourceLimits(Map.of("memory", "64Mi", "cpu", "500m"),
            OptionalLong.of(64L * 1024 * 1024), OptionalLong.of(500), OptionalInt.empty());
        Sandbox sandbox = host.create(DockerTestEngine.request(engine.spec("sleep", "3600").build(), limits));

        ResourceUsage usage = host.stats(sandbox.id());

        assertEquals(0.5, usage.cpuCount(), 1e-9);
        assertEquals(64L * 1024 * 1024, usage.memoryLimitBytes());
        assertTrue(usage.cpuUsedPercent() >= 0 && usage.cpuUsedPercent() <= 100, usage.toString());
    }

    @Test
    void statsOfAPausedSandboxAreAConflictAndOfAnUnknownOneNotFound() {
        Sandbox sandbox = host.create(DockerTestEngine.request(engine.spec("sleep", "3600").build()));
        host.pause(sandbox.id());

        ConflictException paused = assertThrows(ConflictException.class, () -> host.stats(sandbox.id()));
        NotFoundException unknown = assertThrows(NotFoundException.class, () -> host.stats(SandboxId.random()));

        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", paused.code());
        assertTrue(paused.getMessage().contains("paused"), paused.getMessage());
        assertEquals("DOCKER::SANDBOX_NOT_FOUND", unknown.code());
    }

    @Test
    void execRunsAsTheRequestedUser() {
        Sandbox sandbox = host.create(DockerTestEngine.request(engine.spec("sleep", "3600").build()));

        String ids = execStdout(sandbox.id(), new ExecRequest(List.of("sh", "-c", "id -u; id -g"), Map.of(), null,
            "1234:1234"));

        assertEquals("1234\n1234\n", ids);
        assertEquals("0\n", execStdout(sandbox.id(), "id", "-u"), "without a user: the image's default");
    }

    @Test
    void writingIntoNewDirectoriesLeavesExistingOnesAlone() throws Exception {
        Sandbox sandbox = host.create(DockerTestEngine.request(engine.spec("sleep", "3600").build()));
        byte[] content = "#!/bin/sh\necho ran\n".getBytes(StandardCharsets.UTF_8);

        host.writeFile(sandbox.id(), "/tmp/new/deeper/run.sh", new ByteArrayInputStream(content), content.length, 0755);

        assertEquals("ran\n", execStdout(sandbox.id(), "/tmp/new/deeper/run.sh"));
        assertTrue(execStdout(sandbox.id(), "ls", "-ld", "/tmp").startsWith("drwxrwxrwt"), "/tmp keeps mode 1777");
        FileInfo info = host.statFile(sandbox.id(), "/tmp/new/deeper/run.sh").orElseThrow();
        assertEquals(content.length, info.size());
        assertEquals(0755, info.mode());
        assertTrue(host.statFile(sandbox.id(), "/tmp/new").orElseThrow().directory());
        assertEquals(Optional.empty(), host.statFile(sandbox.id(), "/tmp/missing-" + UUID.randomUUID()));
        try (InputStream in = host.readFile(sandbox.id(), "/tmp/new/deeper/run.sh")) {
            assertEquals(new String(content, StandardCharsets.UTF_8), new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static String execStdout(SandboxId id, String... command) {
        return execStdout(id, ExecRequest.of(command));
    }

    private static String execStdout(SandboxId id, ExecRequest request) {
        DockerTestEngine.ExecResult result = DockerTestEngine.exec(host, id, request);
        assertEquals(0, result.exitCode(), result.output());
        return result.output();
    }

    @Test
    void userDefinedNetworkMustExistAndIsUsedForInternalEndpoints() {
        String missing = "opensandbox-test-missing-" + UUID.randomUUID();
        DockerSandboxRuntime onMissing = engine.runtime(Map.of("network_mode", missing));
        ProvisionRequest request = DockerTestEngine.request(engine.spec("sleep", "3600").build());

        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> onMissing.create(request));
        assertEquals("SANDBOX::INVALID_PARAMETER", e.code());
        assertTrue(e.getMessage().contains(missing) && e.getMessage().contains("docker network create"), e.getMessage());

        String network = "opensandbox-test-net-" + engine.runId.substring(0, 8);
        String networkId = engine.raw.createNetworkCmd().withName(network)
            .withLabels(Map.of(DockerTestEngine.RUN_LABEL, engine.runId)).exec().getId();
        try {
            DockerSandboxRuntime onNetwork = engine.runtime(Map.of("network_mode", network, "port_bind_address", "127.0.0.1"));
            Sandbox sandbox = onNetwork.create(DockerTestEngine.request(engine.spec("sleep", "3600").build()));
            String ip = engine.raw.inspectContainerCmd("sandbox-" + sandbox.id()).exec().getNetworkSettings()
                .getNetworks().get(network).getIpAddress();

            assertEquals(ip + ":44772", onNetwork.resolveEndpoint(sandbox.id(), 44772, EndpointPurpose.INTERNAL).address());
            assertTrue(onNetwork.resolveEndpoint(sandbox.id(), 6000, EndpointPurpose.EXTERNAL).address()
                .matches("127\\.0\\.0\\.1:\\d+/proxy/6000"));
            onNetwork.remove(sandbox.id());
        } finally {
            engine.raw.removeNetworkCmd(networkId).exec();
        }
    }
}
