package dev.opensandbox.runtime.docker;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContainerMapperTest {

    private static final ObjectMapper JSON = new ObjectMapper()
        .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final String ID = "0b4a5f8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b";
    private static final Instant CREATED = Instant.parse("2026-06-12T15:00:00.123456Z");

    private static InspectContainerResponse inspect(String stateJson, String labelsJson, String extraConfig) throws Exception {
        return JSON.readValue("""
            {"Id":"abc","Created":"2026-06-12T15:00:00.123456789Z","Image":"sha256:img",
             "State":%s,
             "Config":{"Image":"busybox:local","Labels":%s%s}}
            """.formatted(stateJson, labelsJson, extraConfig), InspectContainerResponse.class);
    }

    private static String state(String status, boolean running, boolean paused, boolean restarting, int exitCode,
                                String finishedAt) {
        return """
            {"Status":"%s","Running":%s,"Paused":%s,"Restarting":%s,"ExitCode":%d,
             "StartedAt":"2026-06-12T15:00:01Z","FinishedAt":"%s"}
            """.formatted(status, running, paused, restarting, exitCode, finishedAt);
    }

    @ParameterizedTest(name = "{0} running={1} paused={2} restarting={3} exit={4} → {5}/{6}")
    @CsvSource({
        "running,    true,  false, false, 0, Running,    CONTAINER_RUNNING,      Sandbox container is running.",
        "paused,     true,  true,  false, 0, Paused,     CONTAINER_PAUSED,       Sandbox container is paused.",
        "restarting, true,  false, true,  0, Running,    CONTAINER_RESTARTING,   Sandbox container is restarting.",
        "created,    false, false, false, 0, Pending,    CONTAINER_STARTING,     Sandbox container is starting.",
        "exited,     false, false, false, 0, Terminated, CONTAINER_EXITED,       Sandbox container exited successfully.",
        "exited,     false, false, false, 3, Failed,     CONTAINER_EXITED_ERROR, Sandbox container exited with code 3.",
        "dead,       false, false, false, 137, Failed,   CONTAINER_EXITED_ERROR, Sandbox container exited with code 137.",
        "removing,   false, false, false, 0, Unknown,    CONTAINER_STATE_UNKNOWN, Sandbox container is in state 'removing'."
    })
    void inspectStateFollowsTheUpstreamTable(String status, boolean running, boolean paused, boolean restarting,
                                             int exitCode, String state, String reason, String message) throws Exception {
        InspectContainerResponse container = inspect(state(status, running, paused, restarting, exitCode,
            "0001-01-01T00:00:00Z"), "{}", "");

        SandboxStatus mapped = ContainerMapper.status(container.getState(), CREATED);

        assertEquals(state, mapped.state().wireName());
        assertEquals(reason, mapped.reason());
        assertEquals(message, mapped.message());
    }

    @Test
    void lastTransitionIsFinishedAtForExitedAndStartedAtForRunning() throws Exception {
        InspectContainerResponse exited = inspect(state("exited", false, false, false, 1,
            "2026-06-12T15:05:00.987654321Z"), "{}", "");
        InspectContainerResponse running = inspect(state("running", true, false, false, 0,
            "0001-01-01T00:00:00Z"), "{}", "");

        assertEquals(Instant.parse("2026-06-12T15:05:00.987654Z"),
            ContainerMapper.status(exited.getState(), CREATED).lastTransitionAt());
        assertEquals(Instant.parse("2026-06-12T15:00:01Z"),
            ContainerMapper.status(running.getState(), CREATED).lastTransitionAt());
    }

    @ParameterizedTest(name = "{0} / {1} → {2}")
    @CsvSource(delimiter = '|', value = {
        "running    | Up 5 seconds                 | Running    | CONTAINER_RUNNING",
        "paused     | Up 5 seconds (Paused)        | Paused     | CONTAINER_PAUSED",
        "restarting | Restarting (1) 2 seconds ago | Running    | CONTAINER_RESTARTING",
        "created    | Created                      | Pending    | CONTAINER_STARTING",
        "exited     | Exited (0) 5 seconds ago     | Terminated | CONTAINER_EXITED",
        "exited     | Exited (3) 5 seconds ago     | Failed     | CONTAINER_EXITED_ERROR",
        "dead       | Dead                         | Failed     | CONTAINER_EXITED_ERROR",
        "removing   | Removal In Progress          | Unknown    | CONTAINER_STATE_UNKNOWN"
    })
    void summaryStateFollowsTheUpstreamTable(String state, String statusText, String expectedState, String reason) {
        SandboxStatus mapped = ContainerMapper.status(state, statusText, CREATED);

        assertEquals(expectedState, mapped.state().wireName());
        assertEquals(reason, mapped.reason());
    }

    @Test
    void summaryReadsTheExitCodeFromTheStatusText() {
        assertEquals("Sandbox container exited with code 3.",
            ContainerMapper.status("exited", "Exited (3) 5 seconds ago", CREATED).message());
    }

    @Test
    void ourContainerReportsRequestedImageEntrypointExpiryAndOnlyUserMetadata() throws Exception {
        InspectContainerResponse container = inspect(state("running", true, false, false, 0, "0001-01-01T00:00:00Z"), """
            {"opensandbox.io/id":"%s","opensandbox.io/expires-at":"2026-06-12T16:00:00.5+00:00",
             "opensandbox.io/image":"busybox:1.36","opensandbox.io/entrypoint":"[\\"sleep\\",\\"3600\\"]",
             "opensandbox.io/platform-os":"linux","opensandbox.io/platform-arch":"amd64",
             "team":"a","maintainer":"image-author","org.opencontainers.image.version":"1"}
            """.formatted(ID), "");

        Sandbox sandbox = ContainerMapper.fromInspect(container, Map.of("maintainer", "image-author")).orElseThrow();

        assertEquals(ID, sandbox.id().toString());
        assertEquals("busybox:1.36", sandbox.image());
        assertEquals(List.of("sleep", "3600"), sandbox.entrypoint());
        assertEquals(Instant.parse("2026-06-12T16:00:00.5Z"), sandbox.expiresAt());
        assertEquals(Map.of("team", "a"), sandbox.metadata());
        assertEquals(new Platform("linux", "amd64"), sandbox.platform());
        assertEquals(Instant.parse("2026-06-12T15:00:00.123456Z"), sandbox.createdAt());
        assertEquals(SandboxState.RUNNING, sandbox.status().state());
    }

    @Test
    void upstreamContainerReportsConfigImageAndItsCmdBehindTheBootstrap() throws Exception {
        InspectContainerResponse container = inspect(state("running", true, false, false, 0, "0001-01-01T00:00:00Z"),
            "{\"opensandbox.io/id\":\"%s\",\"opensandbox.io/manual-cleanup\":\"True\"}".formatted(ID),
            ",\"Entrypoint\":[\"/opt/opensandbox/bootstrap.sh\"],\"Cmd\":[\"python\",\"-m\",\"http.server\"]");

        Sandbox sandbox = ContainerMapper.fromInspect(container, Map.of()).orElseThrow();

        assertEquals("busybox:local", sandbox.image());
        assertEquals(List.of("python", "-m", "http.server"), sandbox.entrypoint());
        assertNull(sandbox.expiresAt(), "manual cleanup");
        assertTrue(sandbox.metadata().isEmpty());
    }

    @Test
    void restoredSandboxHasSnapshotIdAndNoImage() throws Exception {
        InspectContainerResponse container = inspect(state("running", true, false, false, 0, "0001-01-01T00:00:00Z"),
            "{\"opensandbox.io/id\":\"%s\",\"opensandbox.io/snapshot-id\":\"snap-1\"}".formatted(ID), "");

        Sandbox sandbox = ContainerMapper.fromInspect(container, Map.of()).orElseThrow();

        assertNull(sandbox.image());
        assertEquals("snap-1", sandbox.snapshotId());
    }

    @Test
    void unparseableExpiryIsTreatedAsDueNotAsManualCleanup() throws Exception {
        InspectContainerResponse container = inspect(state("running", true, false, false, 0, "0001-01-01T00:00:00Z"),
            "{\"opensandbox.io/id\":\"%s\",\"opensandbox.io/expires-at\":\"tomorrow\"}".formatted(ID), "");

        Sandbox sandbox = ContainerMapper.fromInspect(container, Map.of()).orElseThrow();

        assertEquals(sandbox.createdAt(), sandbox.expiresAt());
    }

    @Test
    void summaryMapsWithoutInspectAndSkipsSidecarsAndForeignContainers() throws Exception {
        Container ours = JSON.readValue("""
            {"Id":"c1","Image":"busybox:latest","ImageID":"sha256:img","Command":"sleep 3600","Created":1781276400,
             "State":"exited","Status":"Exited (3) 2 minutes ago",
             "Labels":{"opensandbox.io/id":"%s","opensandbox.io/expires-at":"2026-06-12T16:00:00+00:00","k":"v"}}
            """.formatted(ID), Container.class);
        Container sidecar = JSON.readValue("""
            {"Id":"c2","State":"running","Status":"Up","Created":1781276400,
             "Labels":{"opensandbox.io/id":"%s","opensandbox.io/egress-sidecar-for":"%s"}}
            """.formatted(ID, ID), Container.class);
        Container foreign = JSON.readValue("""
            {"Id":"c3","State":"running","Status":"Up","Created":1781276400,"Labels":{"opensandbox.io/id":"not-a-uuid"}}
            """, Container.class);

        Sandbox sandbox = ContainerMapper.fromSummary(ours, Map.of()).orElseThrow();

        assertEquals(SandboxState.FAILED, sandbox.status().state());
        assertEquals(List.of("sleep", "3600"), sandbox.entrypoint());
        assertEquals("busybox:latest", sandbox.image());
        assertEquals(Instant.ofEpochSecond(1781276400), sandbox.createdAt());
        assertEquals(Instant.parse("2026-06-12T16:00:00Z"), sandbox.expiresAt());
        assertEquals(Map.of("k", "v"), sandbox.metadata());
        assertTrue(ContainerMapper.fromSummary(sidecar, Map.of()).isEmpty(), "sidecar");
        assertTrue(ContainerMapper.fromSummary(foreign, Map.of()).isEmpty(), "invalid id");
    }

    @Test
    void userLabelThatDiffersFromTheImageLabelIsKept() {
        assertEquals(Map.of("maintainer", "me"),
            ContainerMapper.userMetadata(Map.of("maintainer", "me", "com.docker.compose.project", "x"),
                Map.of("maintainer", "image-author")));
    }
}
