package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.Labels;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Upstream's §3.2 status table and §4's direct endpoint for agent-sandbox {@code Sandbox}es. */
class AgentSandboxMapperTest {

    static final String ID = "00000000-0000-4000-8000-000000000001";
    static final String CREATED = "2026-01-01T00:00:00Z";

    static GenericKubernetesResource sandbox(Map<String, Object> status) {
        GenericKubernetesResource cr = new GenericKubernetesResource();
        cr.setApiVersion(AgentSandboxes.API_VERSION);
        cr.setKind(AgentSandboxes.KIND);
        cr.setMetadata(new ObjectMetaBuilder().withName("sandbox-" + ID).withCreationTimestamp(CREATED)
            .withLabels(Map.of(Labels.ID, ID, "team", "a")).build());
        cr.setAdditionalProperty("spec", Map.of("replicas", 1, "shutdownTime", "2026-01-01T01:00:00Z",
            "podTemplate", Map.of("spec", Map.of("containers", List.of(Map.of("name", "sandbox", "image", "app:1",
                "command", List.of("/opt/opensandbox/bootstrap.sh", "run"))),
                "nodeSelector", Map.of("kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64")))));
        if (status != null) {
            cr.setAdditionalProperty("status", status);
        }
        return cr;
    }

    static Map<String, Object> ready(String status, String reason, String message) {
        return Map.of("conditions", List.of(Map.of("type", "Ready", "status", status, "reason", reason,
            "message", message, "lastTransitionTime", "2026-01-01T00:00:05Z")));
    }

    static Pod pod(String phase, String ip) {
        return new PodBuilder().withNewMetadata().withName("p").endMetadata()
            .withNewStatus().withPhase(phase).withPodIP(ip).endStatus().build();
    }

    @ParameterizedTest(name = "Ready={0} reason={1} -> {3}/{4}")
    @CsvSource({
        "True,  DependenciesReady, Pod is Ready,                                                      Running,    DependenciesReady",
        "False, SandboxExpired,    Sandbox has expired,                                               Terminated, SandboxExpired",
        "False, Unschedulable,     0/3 nodes are available: 3 node(s) didn't match kubernetes.io/arch, Failed,     POD_PLATFORM_UNSCHEDULABLE",
        "False, Unschedulable,     0/3 nodes are available: 3 Insufficient cpu kubernetes.io/arch,     Pending,    Unschedulable",
        "False, DependenciesNotReady, Pod is not Ready,                                               Pending,    DependenciesNotReady",
    })
    void theReadyConditionDecides(String status, String reason, String message, String state, String expectedReason) {
        SandboxStatus mapped = AgentSandboxMapper.status(sandbox(ready(status, reason, message)), null);

        assertEquals(state, mapped.state().wireName());
        assertEquals(expectedReason, mapped.reason());
        assertEquals(message, mapped.message());
        assertEquals(Instant.parse("2026-01-01T00:00:05Z"), mapped.lastTransitionAt());
    }

    @Test
    void withoutReadyConditionThePodDecides() {
        GenericKubernetesResource fresh = sandbox(null);

        assertEquals(List.of("Pending/SANDBOX_PENDING", "Pending/POD_PENDING", "Pending/POD_SCHEDULED",
                "Running/IP_ASSIGNED", "Running/POD_READY"),
            java.util.stream.Stream.of(null, new PodBuilder().build(), pod("Pending", null), pod("Pending", "10.0.0.9"),
                    pod("Running", "10.0.0.9"))
                .map(p -> AgentSandboxMapper.status(fresh, p))
                .map(s -> s.state().wireName() + "/" + s.reason()).toList());
        assertEquals(Instant.parse(CREATED), AgentSandboxMapper.status(fresh, null).lastTransitionAt());
    }

    @Test
    void anExitedMainContainerEndsTheSandboxWhateverTheConditionSays() {
        Pod exited = new PodBuilder(pod("Failed", "10.0.0.9")).editStatus().addNewContainerStatus().withName("sandbox")
            .withNewState().withNewTerminated().withExitCode(3).endTerminated().endState().endContainerStatus()
            .endStatus().build();

        SandboxStatus mapped = AgentSandboxMapper.status(sandbox(ready("True", "DependenciesReady", "ok")), exited);

        assertEquals(SandboxState.FAILED, mapped.state());
        assertEquals("CONTAINER_EXITED_ERROR", mapped.reason());
    }

    @Test
    void aTerminatingSandboxIsStopping() {
        GenericKubernetesResource cr = sandbox(ready("True", "DependenciesReady", "ok"));
        cr.getMetadata().setDeletionTimestamp("2026-01-01T00:10:00Z");

        assertEquals(SandboxState.STOPPING, AgentSandboxMapper.status(cr, null).state());
    }

    @Test
    void theSandboxComesFromLabelsAndThePodTemplate() {
        Sandbox sandbox = AgentSandboxMapper.toSandbox(sandbox(ready("True", "DependenciesReady", "ok")), null)
            .orElseThrow();

        assertEquals(ID, sandbox.id().toString());
        assertEquals("app:1", sandbox.image());
        assertEquals(List.of("run"), sandbox.entrypoint());
        assertEquals(Map.of("team", "a"), sandbox.metadata());
        assertEquals(Instant.parse("2026-01-01T01:00:00Z"), sandbox.expiresAt());
        assertEquals(Instant.parse(CREATED), sandbox.createdAt());
        assertEquals("amd64", sandbox.platform().arch());
    }

    @Test
    void directEndpointIsTheFirstRunningPodWithAnIpThenTheServiceThenNothing() {
        GenericKubernetesResource withService = sandbox(Map.of("serviceFQDN", "s.ns.svc.cluster.local"));

        assertEquals(Optional.of("10.0.0.7"), AgentSandboxMapper.directHost(withService,
            List.of(pod("Pending", "10.0.0.6"), pod("Running", null), pod("Running", "10.0.0.7"))));
        assertEquals(Optional.of("s.ns.svc.cluster.local"), AgentSandboxMapper.directHost(withService,
            List.of(pod("Pending", "10.0.0.6"))));
        assertEquals(Optional.empty(), AgentSandboxMapper.directHost(sandbox(null), List.of()));
        assertNull(AgentSandboxMapper.selector(sandbox(null)));
    }
}
