package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NetworkPolicy;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.BATCHSANDBOXES;
import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.NAMESPACE;
import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.at;
import static dev.opensandbox.runtime.k8s.KubernetesSandboxRuntimeTest.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A sandbox with a networkPolicy on Kubernetes: the egress sidecar in its pod and its token on 18080. */
class EgressOnKubernetesTest extends RuntimeOnMockClusterTest {

    private static final NetworkPolicy POLICY = new NetworkPolicy("deny", List.of(new NetworkPolicy.Rule("allow", "pypi.org")));

    @Override
    KubernetesRuntimeConfig config() {
        return KubernetesRuntimeConfig.defaults(NAMESPACE)
            .withEgress(new EgressPod.Settings("egress:1", "dns", true));
    }


    @Test
    @SuppressWarnings("unchecked")
    void thePodGetsTheSidecarAndTheTokenIsAnnotatedAndReturnedOnlyFor18080() {
        ProvisionRequest request = request(spec().networkPolicy(POLICY).build());
        runtime.create(request);

        MockCluster.Request post = cluster.requests(r -> r.method().equals("POST") && !r.fromController()
            && r.path().contains(BATCHSANDBOXES)).get(0);
        Map<String, Object> cr = cluster.client().getKubernetesSerialization().unmarshal(post.body(), Map.class);
        String token = (String) at(cr, "metadata", "annotations").get(Labels.EGRESS_AUTH_TOKEN);
        assertTrue(token != null && token.length() >= 32, String.valueOf(token));
        assertEquals(token, at(cr, "spec", "template", "metadata", "annotations").get(Labels.EGRESS_AUTH_TOKEN));
        List<Map<String, Object>> containers = (List<Map<String, Object>>) at(cr, "spec", "template", "spec")
            .get("containers");
        assertEquals(List.of("sandbox", "egress"), containers.stream().map(c -> c.get("name")).toList());
        assertTrue(((List<Map<String, Object>>) containers.get(1).get("env"))
            .contains(Map.of("name", "OPENSANDBOX_EGRESS_TOKEN", "value", token)));
        assertEquals(Map.of("capabilities", Map.of("drop", List.of("NET_ADMIN"))), containers.get(0).get("securityContext"));

        Endpoint egressApi = runtime.resolveEndpoint(request.id(), 18080, EndpointPurpose.EXTERNAL);
        assertEquals(token, egressApi.headers().get("OPENSANDBOX-EGRESS-AUTH"));
        assertTrue(runtime.resolveEndpoint(request.id(), 8080, EndpointPurpose.EXTERNAL).headers().isEmpty());
    }

    @Test
    void aPolicyNeedsAnEgressImageAndCannotRideAPool() {
        InvalidRequestException noImage = assertThrows(InvalidRequestException.class, () ->
            new KubernetesSandboxRuntime(KubernetesRuntimeConfig.defaults(NAMESPACE), cluster.client(), false, Map.of(),
                clock).validate(spec().networkPolicy(POLICY).build()));
        assertTrue(noImage.getMessage().contains("egress.image"), noImage.getMessage());

        InvalidRequestException pooled = assertThrows(InvalidRequestException.class, () -> runtime.validate(
            spec().networkPolicy(POLICY).extension("poolRef", "warm").build()));
        assertTrue(pooled.getMessage().contains("poolRef"), pooled.getMessage());
    }
}
