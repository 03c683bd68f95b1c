package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.LabelJson;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.SandboxStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkloadMapperTest {

    static final String ID = "00000000-0000-4000-8000-000000000001";

    static GenericKubernetesResource cr(Map<String, Object> status, Map<String, String> annotations) {
        GenericKubernetesResource cr = new GenericKubernetesResource();
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.ID, ID);
        labels.put(Labels.MANUAL_CLEANUP, "true");
        labels.put("team", "core");
        labels.put("opensandbox.io.evil/key", "kept");
        cr.setMetadata(new ObjectMetaBuilder().withName(ID).withLabels(labels).withAnnotations(annotations)
            .withCreationTimestamp("2026-01-01T00:00:00Z").build());
        cr.setAdditionalProperty("spec", Map.of("expireTime", "2026-01-01T01:00:00.123456+00:00", "template",
            Map.of("spec", Map.of("containers", List.of(Map.of("name", "sandbox", "image", "app:1",
                "command", List.of("/opt/opensandbox/bootstrap.sh", "sleep", "1")))))));
        if (status != null) {
            cr.setAdditionalProperty("status", status);
        }
        return cr;
    }

    static SandboxStatus status(Map<String, Object> status, Map<String, String> annotations) {
        return WorkloadMapper.status(cr(status, annotations), null);
    }

    static final Map<String, String> IP = Map.of(BatchSandboxes.ENDPOINTS_ANNOTATION, "[\"10.0.0.5\"]");

    @Test
    void thePhaseTableOfTheReference() {
        assertEquals(SandboxState.PENDING, status(Map.of("phase", "Pending"), Map.of()).state());
        assertEquals("RUNNING", status(Map.of("phase", "Succeed"), Map.of()).reason());
        assertEquals(SandboxState.RUNNING, status(Map.of("phase", "Running"), Map.of()).state());
        assertEquals(SandboxState.PAUSING, status(Map.of("phase", "Pausing"), Map.of()).state());
        assertEquals(SandboxState.PAUSED, status(Map.of("phase", "Paused"), Map.of()).state());
        assertEquals(SandboxState.RESUMING, status(Map.of("phase", "Resuming"), Map.of()).state());
        assertEquals("Operation failed", status(Map.of("phase", "Failed"), Map.of()).message());
    }

    @Test
    void aFailedPhaseTakesTheFirstMessageOfPodFailedResumeFailedPauseFailed() {
        List<Map<String, Object>> conditions = List.of(
            Map.of("type", "PauseFailed", "status", "True", "message", "pause"),
            Map.of("type", "ResumeFailed", "status", "True", "message", "resume"),
            Map.of("type", "PodFailed", "status", "True", "message", "pod", "lastTransitionTime", "2026-01-02T00:00:00Z"));

        SandboxStatus failed = status(Map.of("phase", "Failed", "conditions", conditions), Map.of());

        assertEquals("pod", failed.message());
        assertEquals(Instant.parse("2026-01-02T00:00:00Z"), failed.lastTransitionAt());
        assertEquals("resume", status(Map.of("phase", "Failed", "conditions", conditions.subList(0, 2)), Map.of()).message());
    }

    @Test
    void withoutAPhaseTheEndpointsAnnotationAndCountersDecide() {
        assertEquals("POD_READY_WITH_IP", status(Map.of("ready", 1, "replicas", 1), IP).reason());
        assertEquals("IP_ASSIGNED", status(Map.of(), IP).reason());
        assertEquals(SandboxState.RUNNING, status(Map.of(), IP).state());
        assertEquals("POD_SCHEDULED", status(Map.of("allocated", 1), Map.of()).reason());
        assertEquals("BATCHSANDBOX_PENDING", status(null, Map.of()).reason());
        assertEquals("BATCHSANDBOX_PENDING", status(null, Map.of(BatchSandboxes.ENDPOINTS_ANNOTATION, "[\"\"]")).reason());
    }

    @Test
    void aTerminatingBatchSandboxIsStopping() {
        GenericKubernetesResource cr = cr(Map.of("phase", "Succeed"), Map.of());
        cr.getMetadata().setDeletionTimestamp("2026-01-01T00:05:00Z");

        assertEquals(SandboxState.STOPPING, WorkloadMapper.status(cr, null).state());
    }

    @Test
    void theSandboxReportsWhatTheClientAskedFor() {
        Sandbox sandbox = WorkloadMapper.toSandbox(cr(Map.of("phase", "Succeed"), IP), null).orElseThrow();

        assertEquals(ID, sandbox.id().toString());
        assertEquals("app:1", sandbox.image());
        assertEquals(List.of("sleep", "1"), sandbox.entrypoint());
        assertEquals(Map.of("team", "core", "opensandbox.io.evil/key", "kept"), sandbox.metadata());
        assertEquals(Instant.parse("2026-01-01T01:00:00.123456Z"), sandbox.expiresAt());
        assertEquals(Instant.parse("2026-01-01T00:00:00Z"), sandbox.createdAt());
    }

    @Test
    void anObjectWithoutAValidIdIsLeftOut() {
        GenericKubernetesResource cr = cr(null, Map.of());
        cr.getMetadata().getLabels().put(Labels.ID, "not-a-uuid");

        assertTrue(WorkloadMapper.toSandbox(cr, null).isEmpty());
    }

    @Test
    void endpointsAnnotationParsing() {
        assertEquals(List.of("10.0.0.5", ""), LabelJson.decode(" [ \"10.0.0.5\" , \"\" ] ").orElseThrow());
        assertTrue(LabelJson.decode("[1]").isEmpty());
        assertTrue(LabelJson.decode("[\"a\"").isEmpty());
        assertEquals(List.of(), LabelJson.decode("[]").orElseThrow());
    }
}
