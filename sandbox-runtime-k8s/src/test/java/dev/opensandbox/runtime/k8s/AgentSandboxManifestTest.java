package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.RegistryAuth;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent-sandbox {@code Sandbox} body (upstream's §2.9) and its DNS-1035 name (§2.2). */
class AgentSandboxManifestTest {

    static final KubernetesRuntimeConfig CONFIG = KubernetesRuntimeConfig.defaults("ns")
        .withAgentSandbox(new KubernetesRuntimeConfig.AgentSandboxConfig(null, "Retain", "sandbox-runner"));
    static final SandboxId ID = SandboxId.parse("00000000-0000-4000-8000-000000000001");

    static ProvisionRequest request(SandboxSpec spec, Instant expiresAt, String accessToken) {
        return new ProvisionRequest(ID, spec, spec.image(), spec.entrypoint(), ResourceLimits.none(),
            Instant.parse("2026-01-01T00:00:00Z"), expiresAt, accessToken);
    }

    @Test
    @SuppressWarnings("unchecked")
    void theBodyIsAnAgentSandboxWithLabelsOnCrAndPodAnnotationsOnTheCrOnlyAndTheShutdownFields() {
        SandboxSpec spec = BatchSandboxManifestTest.spec().metadata(Map.of("team", "a"))
            .extension("opensandbox.extensions.owner", "x").build();

        Map<String, Object> cr = AgentSandboxManifest.build(request(spec, Instant.parse("2026-01-01T01:00:00Z"),
            "token-1"), CONFIG.withExecdImage("opensandbox/execd:v1"), Map.of(), null);

        assertEquals("agents.x-k8s.io/v1alpha1", cr.get("apiVersion"));
        assertEquals("Sandbox", cr.get("kind"));
        Map<String, Object> metadata = at(cr, "metadata");
        assertEquals("sandbox-00000000-0000-4000-8000-000000000001", metadata.get("name"));
        assertEquals("ns", metadata.get("namespace"));
        Map<String, String> labels = Map.of(Labels.ID, ID.toString(), "team", "a");
        assertEquals(labels, metadata.get("labels"));
        assertEquals(Map.of("opensandbox.io/extensions.owner", "x", "opensandbox.io/secure-access-token", "token-1"),
            metadata.get("annotations"));
        Map<String, Object> spec1 = at(cr, "spec");
        assertEquals(1, spec1.get("replicas"));
        assertEquals("Retain", spec1.get("shutdownPolicy"));
        assertEquals("2026-01-01T01:00:00Z", spec1.get("shutdownTime"));
        assertEquals(Map.of("labels", labels), at(cr, "spec", "podTemplate", "metadata"));
        Map<String, Object> pod = at(cr, "spec", "podTemplate", "spec");
        assertEquals("sandbox-runner", pod.get("serviceAccountName"));
        Map<String, Object> main = ((List<Map<String, Object>>) pod.get("containers")).get(0);
        assertEquals("sandbox", main.get("name"));
        assertEquals("app:1", main.get("image"));
        assertFalse(main.containsKey("imagePullPolicy"), "no imagePullPolicy on agent-sandbox pods");
        assertEquals(List.of("/opt/opensandbox/bootstrap.sh", "run"), main.get("command"));
        assertEquals("execd-installer", ((List<Map<String, Object>>) pod.get("initContainers")).get(0).get("name"));
        assertFalse(cr.containsKey("status"));
    }

    @Test
    void withoutTimeoutThereIsNoShutdownTimeAndTheManualCleanupLabelAndTheTemplateCannotImposeOne() {
        Map<String, Object> template = Map.of("metadata", Map.of("annotations", Map.of("from", "template")),
            "spec", Map.of("replicas", 3, "shutdownTime", "2030-01-01T00:00:00Z",
                "podTemplate", Map.of("spec", Map.of("restartPolicy", "Never"))));

        Map<String, Object> cr = AgentSandboxManifest.build(request(BatchSandboxManifestTest.spec().build(), null, null),
            KubernetesRuntimeConfig.defaults("ns").withAgentSandbox(
                KubernetesRuntimeConfig.AgentSandboxConfig.defaults()), template, null);

        Map<String, Object> spec = at(cr, "spec");
        assertFalse(spec.containsKey("shutdownTime"));
        assertEquals(1, spec.get("replicas"));
        assertEquals("Delete", spec.get("shutdownPolicy"), "the server's default, not the CRD's Retain");
        assertEquals("true", at(cr, "metadata", "labels").get(Labels.MANUAL_CLEANUP));
        assertEquals("template", at(cr, "metadata", "annotations").get("from"));
        assertEquals("Never", at(cr, "spec", "podTemplate", "spec").get("restartPolicy"));
        assertFalse(at(cr, "spec", "podTemplate", "spec").containsKey("serviceAccountName"));
    }

    @Test
    void registryCredentialsAndPoolsAreRefusedWith400() {
        SandboxSpec auth = BatchSandboxManifestTest.spec()
            .image(new ImageSpec("registry.example.com/app:1", new RegistryAuth("u", "p"))).build();
        SandboxSpec pool = BatchSandboxManifestTest.spec().extension("poolRef", "pool-a").build();

        assertTrue(assertThrows(InvalidRequestException.class, () -> AgentSandboxManifest.validate(auth)).getMessage()
            .contains("image.auth"));
        assertTrue(assertThrows(InvalidRequestException.class, () -> AgentSandboxManifest.validate(pool)).getMessage()
            .contains("poolRef"));
    }

    @Test
    void namesAreDns1035LabelsAsUpstreamSanitizesThem() {
        assertEquals("abc-def", AgentSandboxes.dns1035("abc-def"));
        assertEquals("sandbox-1abc", AgentSandboxes.dns1035("1abc"));
        assertEquals("my-sandbox", AgentSandboxes.dns1035("--My__Sandbox--"));
        assertTrue(AgentSandboxes.dns1035("___").matches("sandbox-[0-9a-f]{8}"));
        String longName = AgentSandboxes.dns1035("a".repeat(80));
        assertEquals(63, longName.length());
        assertTrue(longName.matches("a{54}-[0-9a-f]{8}"), longName);
        SandboxId letter = SandboxId.parse("a0000000-0000-4000-8000-000000000001");
        assertEquals(List.of(letter.toString(), "sandbox-" + letter), AgentSandboxes.candidates(letter));
        assertEquals(List.of("sandbox-" + ID, ID.toString()), AgentSandboxes.candidates(ID));
    }
}
