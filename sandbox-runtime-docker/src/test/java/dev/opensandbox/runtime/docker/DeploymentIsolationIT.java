package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.model.Container;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NetworkPolicy;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ExecRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two servers of different deployments on one engine (two runtimes here, each a day ahead of the
 * real clock so that their reconcile passes would reap anything they consider orphaned): neither
 * lists, inspects, reaches, pauses, removes or reaps the other's sandbox, sidecar or volume, and
 * containers without a deployment label are adopted only when asked to.
 */
class DeploymentIsolationIT {

    private static final NetworkPolicy POLICY = new NetworkPolicy("deny", List.of(new NetworkPolicy.Rule("allow", "pypi.org")));

    private static DockerTestEngine engine;
    private static Deployment blue;
    private static Deployment green;
    private static DockerSandboxRuntime blueRuntime;
    private static DockerSandboxRuntime greenRuntime;
    private static final List<String> volumes = new ArrayList<>();

    @BeforeAll
    static void connect() {
        engine = DockerTestEngine.connectOrSkip();
        blue = DockerTestEngine.newDeployment();
        green = DockerTestEngine.newDeployment();
        DockerRuntimeConfig config = DockerRuntimeConfig.from(Map.of("network_mode", "bridge", "port_bind_address",
            "127.0.0.1"), Map.of("host", "127.0.0.1"), Map.of(), Map.of("image", EgressSidecarIT.EGRESS_IMAGE), Map.of());
        blueRuntime = engine.runtime(config, blue, Duration.ofDays(1));
        greenRuntime = engine.runtime(config, green, Duration.ofDays(1));
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (engine == null) {
            return;
        }
        for (Deployment deployment : List.of(blue, green)) {
            for (Container container : engine.raw.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.DEPLOYMENT, deployment.id())).exec()) {
                engine.raw.removeContainerCmd(container.getId()).withForce(true).exec();
            }
        }
        for (String volume : volumes) {
            try {
                engine.raw.removeVolumeCmd(volume).exec();
            } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
                // removed with its sandbox
            }
        }
        engine.close();
    }

    private static List<SandboxId> idsListedBy(DockerSandboxRuntime runtime) {
        return runtime.list().stream().map(Sandbox::id).toList();
    }

    private static List<Container> sidecarsOf(SandboxId id) {
        return engine.raw.listContainersCmd().withShowAll(true)
            .withLabelFilter(Map.of(Labels.EGRESS_SIDECAR_FOR, id.toString())).exec();
    }

    @Test
    void neitherDeploymentSeesOrTouchesTheOthersSandboxOrSidecar() {
        Sandbox blueSandbox = blueRuntime.create(DockerTestEngine.request(engine.spec("sleep", "3600")
            .networkPolicy(POLICY).build()));
        Sandbox greenSandbox = greenRuntime.create(DockerTestEngine.request(engine.spec("sleep", "3600").build()));
        SandboxId blueId = blueSandbox.id();

        assertEquals(blue.id(), engine.raw.inspectContainerCmd("sandbox-" + blueId).exec().getConfig().getLabels()
            .get(Labels.DEPLOYMENT), "the sandbox container carries its deployment");
        assertEquals(blue.id(), sidecarsOf(blueId).get(0).getLabels().get(Labels.DEPLOYMENT), "and so does its sidecar");

        assertTrue(idsListedBy(blueRuntime).contains(blueId));
        assertFalse(idsListedBy(blueRuntime).contains(greenSandbox.id()));
        assertTrue(idsListedBy(greenRuntime).contains(greenSandbox.id()));
        assertFalse(idsListedBy(greenRuntime).contains(blueId));

        assertTrue(greenRuntime.inspect(blueId).isEmpty());
        assertThrows(NotFoundException.class, () -> greenRuntime.resolveEndpoint(blueId, 8080, EndpointPurpose.EXTERNAL));
        assertThrows(NotFoundException.class, () -> greenRuntime.pause(blueId));
        assertThrows(NotFoundException.class, () -> greenRuntime.exec(blueId, ExecRequest.of("true"), null));
        assertThrows(NotFoundException.class, () -> greenRuntime.logs(blueId, 10, null));
        greenRuntime.remove(blueId);
        greenRuntime.reapOrphans();

        assertEquals(SandboxState.RUNNING, blueRuntime.inspect(blueId).orElseThrow().status().state(),
            "another deployment's remove and reconcile left the sandbox alone");
        assertEquals(1, sidecarsOf(blueId).size(), "and its sidecar");

        // A crash between the two removals: the sidecar is an orphan, but only of its own deployment.
        engine.raw.removeContainerCmd("sandbox-" + blueId).withForce(true).exec();
        greenRuntime.reapOrphans();
        assertEquals(1, sidecarsOf(blueId).size(), "another deployment never reaps it");
        blueRuntime.reapOrphans();
        assertEquals(List.of(), sidecarsOf(blueId), "its own deployment does");

        greenRuntime.remove(greenSandbox.id());
        assertTrue(greenRuntime.inspect(greenSandbox.id()).isEmpty());
    }

    @Test
    void managedVolumesBelongToTheirDeployment() {
        String volume = "it-deployment-" + UUID.randomUUID().toString().substring(0, 8);
        volumes.add(volume);
        Sandbox sandbox = blueRuntime.create(DockerTestEngine.request(engine.spec("sleep", "3600")
            .volumes(List.of(new VolumeSpec("data", "/data", false, null,
                new VolumeBackend.Pvc(volume, true, true, null, null, null)))).build()));

        assertEquals(blue.id(), engine.raw.inspectVolumeCmd(volume).exec().getLabels().get(Labels.DEPLOYMENT));
        greenRuntime.remove(sandbox.id());
        engine.raw.inspectVolumeCmd(volume).exec();

        blueRuntime.remove(sandbox.id());
        assertThrows(com.github.dockerjava.api.exception.NotFoundException.class,
            () -> engine.raw.inspectVolumeCmd(volume).exec(), "deleted with its sandbox by its own deployment");
    }

    @Test
    void containersWithoutADeploymentLabelAreAdoptedOnlyWhenAskedTo() {
        SandboxId id = SandboxId.random();
        String containerId = engine.raw.createContainerCmd(DockerTestEngine.TEST_IMAGE).withName("sandbox-" + id)
            .withLabels(Map.of(Labels.ID, id.toString(), Labels.MANUAL_CLEANUP, "true", DockerTestEngine.RUN_LABEL,
                engine.runId))
            .withCmd("sleep", "3600").exec().getId();
        engine.raw.startContainerCmd(containerId).exec();
        DockerSandboxRuntime adopting = engine.runtime(DockerRuntimeConfig.defaults(), new Deployment(blue.id(), true),
            Duration.ZERO);

        assertFalse(idsListedBy(blueRuntime).contains(id));
        assertTrue(blueRuntime.inspect(id).isEmpty());
        blueRuntime.remove(id);
        assertEquals(1, engine.containersOf(id).size(), "left in place by a deployment that does not adopt it");

        assertTrue(idsListedBy(adopting).contains(id));
        assertTrue(adopting.inspect(id).isPresent());
        adopting.remove(id);
        assertEquals(List.of(), engine.containersOf(id));
    }

    @Test
    void leftoverExecdHelpersAreReapedOnlyByTheirOwnDeployment() {
        String helper = engine.raw.createContainerCmd(DockerTestEngine.TEST_IMAGE)
            .withName("sandbox-execd-" + UUID.randomUUID())
            .withLabels(Map.of(ExecdInjection.HELPER_LABEL, "true", Labels.DEPLOYMENT, blue.id()))
            .withCmd("sleep", "3600").exec().getId();

        greenRuntime.reapOrphans();
        assertEquals(1, engine.raw.listContainersCmd().withShowAll(true).withIdFilter(List.of(helper)).exec().size(),
            "another deployment leaves it");
        engine.runtime(DockerRuntimeConfig.defaults(), blue, Duration.ZERO).reapOrphans();
        assertEquals(1, engine.raw.listContainersCmd().withShowAll(true).withIdFilter(List.of(helper)).exec().size(),
            "its own deployment leaves a young helper: it may be another process's harvest");
        blueRuntime.reapOrphans();
        assertEquals(List.of(), engine.raw.listContainersCmd().withShowAll(true).withIdFilter(List.of(helper)).exec(),
            "and reaps it once it is past the grace");
    }

    @Test
    void snapshotImagesBelongToTheirDeployment() {
        Sandbox sandbox = blueRuntime.create(DockerTestEngine.request(engine.spec("sleep", "3600").build()));
        String snapshotId = "it-" + UUID.randomUUID();
        String image = blueRuntime.commitSnapshot(sandbox.id(), snapshotId);
        try {
            assertEquals(blue.id(), engine.raw.inspectImageCmd(image).exec().getConfig().getLabels().get(Labels.DEPLOYMENT));
            assertThrows(NotFoundException.class, () -> greenRuntime.commitSnapshot(sandbox.id(), "it-" + UUID.randomUUID()));
            greenRuntime.deleteSnapshotImage(image);
            assertTrue(blueRuntime.snapshotImageExists(image), "another deployment's delete leaves the image");
            blueRuntime.deleteSnapshotImage(image);
            assertFalse(blueRuntime.snapshotImageExists(image));
        } finally {
            blueRuntime.remove(sandbox.id());
            try {
                engine.raw.removeImageCmd(image).withForce(true).exec();
            } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
                // deleted by the test
            }
        }
    }
}
