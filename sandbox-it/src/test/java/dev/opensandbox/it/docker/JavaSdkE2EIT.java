package dev.opensandbox.it.docker;

import com.alibaba.opensandbox.sandbox.Sandbox;
import com.alibaba.opensandbox.sandbox.SandboxManager;
import com.alibaba.opensandbox.sandbox.config.ConnectionConfig;
import com.alibaba.opensandbox.sandbox.domain.exceptions.SandboxApiException;
import com.alibaba.opensandbox.sandbox.domain.models.execd.executions.Execution;
import com.alibaba.opensandbox.sandbox.domain.models.execd.executions.OutputMessage;
import com.alibaba.opensandbox.sandbox.domain.models.sandboxes.PagedSandboxInfos;
import com.alibaba.opensandbox.sandbox.domain.models.sandboxes.SandboxFilter;
import com.alibaba.opensandbox.sandbox.domain.models.sandboxes.SandboxInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The official Java SDK ({@code com.alibaba.opensandbox:sandbox:1.0.0}, unchanged) against this
 * server on the real Docker engine with the plain busybox image: the SDK's own readiness check
 * (ping on the 44772 endpoint, answered by the built-in execd), a command and its stdout, a file
 * written and read back, list with filters, renew, pause and resume, kill.
 */
class JavaSdkE2EIT {

    @TempDir
    Path dir;

    private DockerServerStack stack;
    private final String run = UUID.randomUUID().toString();

    @BeforeAll
    static void requireEngine() {
        assumeTrue(ServerOnDockerIT.docker("info").exit() == 0, "no Docker engine reachable: `docker info` failed");
    }

    @AfterEach
    void stop() {
        if (stack != null) {
            stack.close();
        }
        ServerOnDockerIT.removeContainersOfRun(run);
    }

    @Test
    void theOfficialJavaSdkRunsTheWholeScenario() throws Exception {
        stack = new DockerServerStack(dir.resolve("store.db"), Map.of("network_mode", "bridge"), Duration.ofSeconds(5));
        ConnectionConfig connection = ConnectionConfig.builder()
            .domain("127.0.0.1:" + stack.api.port())
            .protocol("http")
            .apiKey(DockerServerStack.API_KEY)
            .requestTimeout(Duration.ofSeconds(60))
            .build();

        long start = System.nanoTime();
        Sandbox sandbox = Sandbox.builder()
            .connectionConfig(connection)
            .image(ServerOnDockerIT.IMAGE)
            .entrypoint("sleep", "3600")
            .resource(Map.of("cpu", "500m", "memory", "128Mi"))
            .metadata(Map.of("run", run, "team", "sdk"))
            .timeout(Duration.ofMinutes(10))
            .readyTimeout(Duration.ofSeconds(60))
            .build();
        long ready = System.nanoTime();
        try (SandboxManager manager = SandboxManager.builder().connectionConfig(connection).build()) {
            Execution execution = sandbox.commands().run("echo hello-from-sdk");
            long firstOutput = System.nanoTime();
            String stdout = execution.getLogs().getStdout().stream().map(OutputMessage::getText)
                .collect(Collectors.joining());
            assertEquals("hello-from-sdk", stdout.strip(), "stdout of the command");
            System.out.printf("Java SDK: create→ready %d ms, create→first command output %d ms%n",
                (ready - start) / 1_000_000, (firstOutput - start) / 1_000_000);

            sandbox.files().writeFile("/tmp/sdk-file.txt", "written by the SDK\n");
            assertEquals("written by the SDK\n", sandbox.files().readFile("/tmp/sdk-file.txt"));

            PagedSandboxInfos page = manager.listSandboxInfos(SandboxFilter.builder()
                .states("Running").metadata(Map.of("run", run, "team", "sdk")).pageSize(10).build());
            List<UUID> ids = page.getSandboxInfos().stream().map(SandboxInfo::getId).toList();
            assertEquals(List.of(sandbox.getId()), ids);

            OffsetDateTime before = sandbox.getInfo().getExpiresAt();
            sandbox.renew(Duration.ofMinutes(30));
            assertTrue(sandbox.getInfo().getExpiresAt().isAfter(before), "renew moved the expiry");

            sandbox.pause();
            assertEquals("Paused", sandbox.getInfo().getStatus().getState());
            sandbox.resume();
            assertEquals("Running", sandbox.getInfo().getStatus().getState());
            assertEquals("hello-again", sandbox.commands().run("echo hello-again").getLogs().getStdout().stream()
                .map(OutputMessage::getText).collect(Collectors.joining()).strip());

            sandbox.kill();
            SandboxApiException gone = assertThrows(SandboxApiException.class, () -> manager.getSandboxInfo(sandbox.getId()));
            assertEquals(404, gone.getStatusCode());
        } finally {
            sandbox.close();
        }
    }
}
