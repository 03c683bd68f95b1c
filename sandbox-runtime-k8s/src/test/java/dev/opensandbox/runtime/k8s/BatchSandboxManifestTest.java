package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.RegistryAuth;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.ProvisionRequest;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BatchSandboxManifestTest {

    static final KubernetesRuntimeConfig CONFIG = KubernetesRuntimeConfig.defaults("ns");

    static ProvisionRequest request(SandboxSpec spec, Instant expiresAt) {
        return new ProvisionRequest(SandboxId.parse("00000000-0000-4000-8000-000000000001"), spec, spec.image(),
            spec.entrypoint(), ResourceLimits.none(), Instant.parse("2026-01-01T00:00:00Z"), expiresAt);
    }

    static SandboxSpec.Builder spec() {
        return SandboxSpec.builder().image("app:1").entrypoint("run").resourceLimits(Map.of());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> podSpec(Map<String, Object> cr) {
        return (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) cr.get("spec")).get("template")).get("spec");
    }

    @Test
    @SuppressWarnings("unchecked")
    void withExecdImageTheEntrypointIsWrappedAndExecdInstalledByAnInitContainer() {
        Map<String, Object> cr = BatchSandboxManifest.build(request(spec().build(), null),
            CONFIG.withExecdImage("opensandbox/execd:v1"), Map.of());

        Map<String, Object> pod = podSpec(cr);
        Map<String, Object> init = ((List<Map<String, Object>>) pod.get("initContainers")).get(0);
        Map<String, Object> main = ((List<Map<String, Object>>) pod.get("containers")).get(0);
        assertEquals("execd-installer", init.get("name"));
        assertEquals(List.of("/bin/sh", "-c"), init.get("command"));
        assertEquals(List.of("cp ./execd /opt/opensandbox/execd && cp ./bootstrap.sh /opt/opensandbox/bootstrap.sh"
            + " && chmod +x /opt/opensandbox/execd && chmod +x /opt/opensandbox/bootstrap.sh"), init.get("args"));
        assertEquals(List.of("/opt/opensandbox/bootstrap.sh", "run"), main.get("command"));
        assertEquals(List.of(Map.of("name", "EXECD", "value", "/opt/opensandbox/execd")), main.get("env"));
        assertEquals(List.of(Map.of("name", "opensandbox-bin", "emptyDir", Map.of())), pod.get("volumes"));
    }

    @Test
    void labelsAnnotationsAndPlatformFollowTheReference() {
        SandboxSpec spec = spec().snapshotId("snap-1").platform(new Platform("linux", "arm64"))
            .extension("access.renew.extend.seconds", "600").extension("opensandbox.extensions.team", "x")
.build();

        Map<String, Object> cr = BatchSandboxManifest.build(request(spec, null), CONFIG, Map.of());

        Map<?, ?> metadata = (Map<?, ?>) cr.get("metadata");
        assertEquals(Map.of(Labels.ID, "00000000-0000-4000-8000-000000000001", Labels.MANUAL_CLEANUP, "true",
            Labels.SNAPSHOT_ID, "snap-1"), metadata.get("labels"));
        assertEquals(Map.of("opensandbox.io/access-renew-extend-seconds", "600", "opensandbox.io/extensions.team", "x"),
            metadata.get("annotations"));
        assertEquals(Map.of("kubernetes.io/os", "linux", "kubernetes.io/arch", "arm64"), podSpec(cr).get("nodeSelector"));
    }

    @Test
    void shellQuotingFollowsPythonsShlexQuote() {
        assertEquals("''", BatchSandboxManifest.shellQuote(""));
        assertEquals("a_b@c%d+e=f:g,h./-1", BatchSandboxManifest.shellQuote("a_b@c%d+e=f:g,h./-1"));
        assertEquals("'two words'", BatchSandboxManifest.shellQuote("two words"));
        assertEquals("'it'\"'\"'s'", BatchSandboxManifest.shellQuote("it's"));
        assertEquals("'$HOME'", BatchSandboxManifest.shellQuote("$HOME"));
        assertEquals("'caf\u00e9'", BatchSandboxManifest.shellQuote("caf\u00e9"));
    }

    @Test
    void gpuBecomesNvidiaGpuAndAllIsRefused() {
        assertEquals(Map.of("cpu", "1", "nvidia.com/gpu", "1"), BatchSandboxManifest.resources(Map.of("cpu", "1", "gpu", "1")));
        InvalidRequestException all = assertThrows(InvalidRequestException.class,
            () -> BatchSandboxManifest.resources(Map.of("gpu", "all")));
        assertEquals("SANDBOX::INVALID_PARAMETER", all.code());
    }

    @Test
    @SuppressWarnings("unchecked")
    void theTemplateIsMergedUnderTheRequestWithListsMergedByName() {
        Map<String, Object> template = Map.of(
            "metadata", Map.of("annotations", Map.of("owner", "ops")),
            "spec", Map.of("replicas", 5, "expireTime", "2000-01-01T00:00:00Z", "template", Map.of("spec", Map.of(
                "restartPolicy", "Never",
                "containers", List.of(Map.of("name", "sandbox", "volumeMounts", List.of(Map.of("name", "data",
                    "mountPath", "/data"))), Map.of("name", "sidecar", "image", "side:1")),
                "volumes", List.of(Map.of("name", "data", "emptyDir", Map.of()))))));

        Map<String, Object> cr = BatchSandboxManifest.build(request(spec().build(), Instant.parse("2026-01-01T01:00:00Z")),
            CONFIG, template);

        Map<String, Object> spec = (Map<String, Object>) cr.get("spec");
        assertEquals(1, spec.get("replicas"));
        assertEquals("2026-01-01T01:00:00Z", spec.get("expireTime"));
        assertEquals(Map.of("owner", "ops"), ((Map<?, ?>) cr.get("metadata")).get("annotations"));
        Map<String, Object> pod = podSpec(cr);
        assertEquals("Never", pod.get("restartPolicy"));
        List<Map<String, Object>> containers = (List<Map<String, Object>>) pod.get("containers");
        assertEquals(List.of("sandbox", "sidecar"), containers.stream().map(c -> c.get("name")).toList());
        assertEquals("app:1", containers.get(0).get("image"));
        assertEquals(List.of(Map.of("name", "data", "mountPath", "/data")), containers.get(0).get("volumeMounts"));
        assertEquals(List.of(Map.of("name", "data", "emptyDir", Map.of())), pod.get("volumes"));
    }

    @Test
    void theRegistryIsTheFirstSegmentWhenItLooksLikeAHost() {
        assertEquals("registry.example.com", BatchSandboxManifest.registry("registry.example.com/team/app:1"));
        assertEquals("localhost:5000", BatchSandboxManifest.registry("localhost:5000/app"));
        assertEquals("https://index.docker.io/v1/", BatchSandboxManifest.registry("team/app:1"));
        assertEquals("https://index.docker.io/v1/", BatchSandboxManifest.registry("python:3.11"));
    }

    @Test
    void theSecretIsADockerConfigJsonLabelledWithTheId() {
        Map<String, Object> secret = BatchSandboxManifest.imagePullSecret(SandboxId.parse(
            "00000000-0000-4000-8000-000000000001"), "ns", "r.io/app", new RegistryAuth("u", "p"), Object::toString);

        assertEquals("kubernetes.io/dockerconfigjson", secret.get("type"));
        assertEquals("opensandbox-image-auth-00000000-0000-4000-8000-000000000001", ((Map<?, ?>) secret.get("metadata")).get("name"));
        assertEquals(Map.of(Labels.ID, "00000000-0000-4000-8000-000000000001"), ((Map<?, ?>) secret.get("metadata")).get("labels"));
    }

    @Test
    void withoutCredentialsThereAreNoImagePullSecrets() {
        Map<String, Object> cr = BatchSandboxManifest.build(request(spec().image(ImageSpec.of("a")).build(), null), CONFIG, Map.of());

        assertEquals(null, podSpec(cr).get("imagePullSecrets"));
    }
}
