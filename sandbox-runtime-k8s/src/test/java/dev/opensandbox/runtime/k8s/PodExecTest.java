package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.FileInfo;
import dev.opensandbox.runtime.k8s.testing.FakeKubelet;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Queue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pod exec, files and logs against fabric8's mock API server in expectations mode: scripted
 * WebSocket frames prove the demultiplexing and the status channel; a {@link FakeKubelet} that
 * runs the exec'd commands locally proves the file scripts end to end.
 */
class PodExecTest {

    private static final String NAMESPACE = "ns";
    private static final String POD = "sbx-0";
    private static final String EXEC = "/api/v1/namespaces/" + NAMESPACE + "/pods/" + POD + "/exec?";

    private final SandboxId id = SandboxId.random();
    private KubernetesMockServer server;
    private KubernetesClient client;
    private PodExec exec;
    private KubernetesMockServer kubeletServer;
    private KubernetesClient kubeletClient;

    @BeforeEach
    void start() {
        // Mixed mode: scripted expectations first, CRUD for the rest (fabric8 reads the pod before it execs).
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
            new KubernetesMixedDispatcher(responses), false);
        server.init();
        client = server.createClient();
        Pod pod = client.pods().inNamespace(NAMESPACE).resource(runningPod()).create();
        exec = new PodExec(client, NAMESPACE, sandbox -> sandbox.equals(id) ? Optional.of(pod) : Optional.empty(),
            sandbox -> sandbox.equals(id), sandbox -> new NotFoundException(KubernetesErrors.SANDBOX_NOT_FOUND, "gone"));
    }

    @AfterEach
    void stop() {
        if (kubeletClient != null) {
            kubeletClient.close();
            kubeletServer.destroy();
        }
        client.close();
        server.destroy();
    }

    private static Pod runningPod() {
        return new PodBuilder().withNewMetadata().withName(POD).withNamespace(NAMESPACE).endMetadata()
            .withNewSpec().addNewContainer().withName("sandbox").withImage("busybox").endContainer().endSpec()
            .withNewStatus().withPhase("Running").addNewCondition().withType("Ready").withStatus("True").endCondition()
            .endStatus().build();
    }

    @Test
    void stdoutAndStderrAreDemultiplexedAsProducedAndTheExitCodeComesFromTheStatusChannel() {
        Recorder output = new Recorder();

        ExecHandle handle = kubeletExec().exec(id, ExecRequest.of("sh", "-c",
            "printf out-1; sleep 0.2; printf err-1 >&2; sleep 0.2; printf out-2"), output);

        assertEquals(0, handle.awaitExit(Duration.ofSeconds(10)));
        assertEquals(OptionalInt.of(0), handle.exitCode());
        assertEquals("out-1out-2", output.stdout.toString(StandardCharsets.UTF_8));
        assertEquals("err-1", output.stderr.toString(StandardCharsets.UTF_8));
        assertEquals(List.of("stdout", "stderr", "stdout"), output.order);
    }

    @Test
    void aNonZeroExitCodeStatusIsTheCommandsExitCode() {
        Recorder output = new Recorder();

        ExecHandle handle = kubeletExec().exec(id, ExecRequest.of("sh", "-c", "echo boom >&2; exit 7"), output);

        assertEquals(7, handle.awaitExit(Duration.ofSeconds(10)));
        assertEquals(OptionalInt.of(7), handle.exitCode());
        assertEquals("boom\n", output.stderr.toString(StandardCharsets.UTF_8));
        assertTrue(FakeKubelet.status(7).contains("\"reason\":\"NonZeroExitCode\""));
    }

    @Test
    void envAndWorkingDirectoryReachTheCommand(@TempDir Path directory) {
        Recorder output = new Recorder();

        ExecHandle handle = kubeletExec().exec(id, new ExecRequest(List.of("sh", "-c", "printf '%s:' \"$A\"; pwd"),
            Map.of("A", "x y"), directory.toString()), output);

        assertEquals(0, handle.awaitExit(Duration.ofSeconds(10)));
        assertEquals("x y:" + directory + "\n", output.stdout.toString(StandardCharsets.UTF_8));
    }

    @Test
    void envAndWorkingDirectoryAreAppliedByWrappingTheArgv() {
        ExecRequest request = new ExecRequest(List.of("printenv", "A"), Map.of("A", "x y"), "/work dir");

        assertEquals(List.of("sh", "-c", PodExec.CD_WRAPPER, "opensandbox-cd", "/work dir", "env", "A=x y", "printenv", "A"),
            PodExec.argv(request));
        assertEquals(List.of("ls"), PodExec.argv(ExecRequest.of("ls")));
    }

    @Test
    void aUserIsRefusedBecausePodExecCannotSwitchUsers() {
        InvalidRequestException refused = assertThrows(InvalidRequestException.class,
            () -> exec.exec(id, new ExecRequest(List.of("id"), Map.of(), null, "1000"), new Recorder()));

        assertTrue(refused.getMessage().contains("as user 1000"), refused.getMessage());
    }

    @Test
    void anUnknownSandboxIsNotFound() {
        assertThrows(NotFoundException.class, () -> exec.exec(SandboxId.random(), ExecRequest.of("ls"), new Recorder()));
    }

    @Test
    void logsAskForTheSandboxContainerWithTailSinceAndTimestamps() throws InterruptedException {
        String since = "2026-01-02T03:04:05Z";
        PodTelemetry telemetry = new PodTelemetry(client, NAMESPACE, exec);
        telemetry.logs(id, 5, Instant.parse(since));

        List<String> paths = new ArrayList<>();
        for (int i = 0, count = server.getRequestCount(); i < count; i++) {
            paths.add(server.takeRequest().getPath());
        }
        String log = paths.stream().filter(path -> path.contains("/pods/sbx-0/log?")).findFirst()
            .orElseThrow(() -> new AssertionError("no log request in " + paths));
        assertTrue(log.contains("container=sandbox"), log);
        assertTrue(log.contains("tailLines=5"), log);
        assertTrue(log.contains("sinceTime=" + since), log);
        assertTrue(log.contains("timestamps=true"), log);
    }

    @Test
    void filesRoundTripThroughTheExecScripts(@TempDir Path directory) throws Exception {
        PodFiles files = new PodFiles(kubeletExec());
        String path = directory.resolve("new/sub dir/all-bytes.bin").toString();
        byte[] content = new byte[200_000];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) i;
        }

        files.writeFile(id, path, new ByteArrayInputStream(content), content.length, 0640);
        Optional<FileInfo> info = files.statFile(id, path);
        byte[] read;
        try (InputStream in = files.readFile(id, path)) {
            read = in.readAllBytes();
        }

        assertArrayEquals(content, read);
        assertEquals(content.length, info.orElseThrow().size());
        assertEquals(0640, info.orElseThrow().mode());
        assertEquals(Optional.empty(), files.statFile(id, directory.resolve("missing").toString()));
    }

    @Test
    void readingAMissingFileIsNotFoundAndADirectoryIsRefused(@TempDir Path directory) {
        PodFiles files = new PodFiles(kubeletExec());

        assertThrows(NotFoundException.class, () -> files.readFile(id, directory.resolve("missing").toString()));
        assertThrows(InvalidRequestException.class, () -> files.readFile(id, directory.toString()));
        assertThrows(InvalidRequestException.class, () -> files.readFile(id, "relative/path"));
    }

    /** A {@link PodExec} on a second mock server whose exec requests a {@link FakeKubelet} runs locally. */
    private PodExec kubeletExec() {
        FakeKubelet kubelet = new FakeKubelet(pod -> Map.of());
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        Dispatcher crud = new KubernetesMixedDispatcher(responses);
        kubeletServer = new KubernetesMockServer(new Context(), new MockWebServer(), responses, new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return FakeKubelet.isExec(request.getPath()) ? kubelet.respond(request) : crud.dispatch(request);
            }
        }, false);
        kubeletServer.init();
        kubeletClient = kubeletServer.createClient();
        Pod pod = kubeletClient.pods().inNamespace(NAMESPACE).resource(runningPod()).create();
        return new PodExec(kubeletClient, NAMESPACE, sandbox -> Optional.of(pod), sandbox -> true,
            sandbox -> new NotFoundException(KubernetesErrors.SANDBOX_NOT_FOUND, "gone"));
    }

    private static final class Recorder implements ExecOutput {
        final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        final List<String> order = new ArrayList<>();

        @Override
        public synchronized void stdout(byte[] data, int offset, int length) {
            stdout.write(data, offset, length);
            order.add("stdout");
        }

        @Override
        public synchronized void stderr(byte[] data, int offset, int length) {
            stderr.write(data, offset, length);
            order.add("stderr");
        }
    }
}
