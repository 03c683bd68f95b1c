package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntimeProvider;
import dev.opensandbox.core.testing.MutableClock;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KubernetesRuntimeProviderTest {

    @TempDir
    Path dir;

    static RuntimeContext context(Map<String, Object> settings, Map<String, String> environment) {
        return new RuntimeContext(new MutableClock(), settings, environment);
    }

    @Test
    void isFoundByServiceLoaderUnderTypeKubernetes() {
        assertTrue(ServiceLoader.load(SandboxRuntimeProvider.class).stream()
            .anyMatch(p -> p.get().type().equals("kubernetes") && p.get() instanceof KubernetesRuntimeProvider));
    }

    @Test
    void readsTheKubernetesTableWithUpstreamDefaults() {
        KubernetesRuntimeConfig config = KubernetesRuntimeConfig.from(context(Map.of(
            "kubernetes", Map.of("namespace", "ns", "kubeconfig_path", "~/.kube/config", "workload_provider", "BatchSandbox",
                "sandbox_create_timeout_seconds", 90L, "informer_watch_timeout_seconds", 30L),
            "runtime", Map.of("execd_image", "opensandbox/execd:v1")), Map.of("HOME", "/home/me")));

        assertEquals("ns", config.namespace());
        assertEquals("/home/me/.kube/config", config.kubeconfigPath());
        assertEquals("batchsandbox", config.workloadProvider());
        assertEquals(Duration.ofSeconds(90), config.createTimeout());
        assertEquals(Duration.ofSeconds(30), config.watchTimeout());
        assertEquals(Duration.ofSeconds(300), config.resyncPeriod());
        assertEquals("IfNotPresent", config.imagePullPolicy());
        assertEquals("opensandbox/execd:v1", config.execdImage());
        assertNull(config.templateFile());
    }

    @Test
    void takesTheDeploymentFromTheRuntimeContextAndIsUnscopedWithoutOne() {
        Map<String, Object> settings = Map.of("kubernetes", Map.of("namespace", "ns"));
        Deployment deployment = new Deployment("alpha", true);

        assertEquals(deployment, KubernetesRuntimeConfig.from(new RuntimeContext(new MutableClock(), settings, Map.of(),
            deployment)).deployment());
        assertEquals(Deployment.unscoped(), KubernetesRuntimeConfig.from(context(settings, Map.of())).deployment());
    }

    @Test
    void readsTheSnapshotCreateTimeoutWithUpstreamsDefaultOf900Seconds() {
        assertEquals(Duration.ofSeconds(900), KubernetesRuntimeConfig.from(context(Map.of(
            "kubernetes", Map.of("namespace", "ns")), Map.of())).snapshotCreateTimeout());
        assertEquals(Duration.ofSeconds(30), KubernetesRuntimeConfig.from(context(Map.of(
            "kubernetes", Map.of("namespace", "ns", "snapshot_create_timeout_seconds", 30L)), Map.of()))
            .snapshotCreateTimeout());
    }

    @Test
    void refusesToStartWithoutNamespaceWithAMissingAgentSandboxTemplateOrWithAnIncompleteGateway() {
        SandboxRuntimeProvider provider = new KubernetesRuntimeProvider();
        UnavailableException noNamespace = assertThrows(UnavailableException.class,
            () -> provider.create(context(Map.of("kubernetes", Map.of()), Map.of())));
        UnavailableException agent = assertThrows(UnavailableException.class, () -> provider.create(context(
            Map.of("kubernetes", Map.of("namespace", "ns", "workload_provider", "agent-sandbox"),
                "agent_sandbox", Map.of("template_file", "/nonexistent/agent-sandbox-template.yaml")), Map.of())));
        UnavailableException gateway = assertThrows(UnavailableException.class, () -> provider.create(context(
            Map.of("kubernetes", Map.of("namespace", "ns"), "ingress", Map.of("mode", "gateway")), Map.of())));
        UnavailableException nowhere = assertThrows(UnavailableException.class,
            () -> provider.create(context(Map.of("kubernetes", Map.of("namespace", "ns")), Map.of())));

        for (UnavailableException e : new UnavailableException[] {noNamespace, agent, gateway, nowhere}) {
            assertEquals(KubernetesErrors.INITIALIZATION_ERROR, e.code());
        }
        assertTrue(agent.getMessage().contains("agent_sandbox.template_file"), agent.getMessage());
        assertTrue(gateway.getMessage().contains("ingress.gateway"), gateway.getMessage());
        assertTrue(nowhere.getMessage().contains("KUBERNETES_SERVICE_HOST"), nowhere.getMessage());
    }

    // ---------------------------------------------------------------- [ingress]

    static KubernetesRuntimeConfig withIngress(Map<String, Object> ingress) {
        return KubernetesRuntimeConfig.from(context(Map.of("kubernetes", Map.of("namespace", "ns"), "ingress", ingress),
            Map.of()));
    }

    @Test
    void ingressIsDirectWhenAbsentOrSaidSo() {
        assertFalse(KubernetesRuntimeConfig.from(context(Map.of("kubernetes", Map.of("namespace", "ns")), Map.of()))
            .ingress().isGateway());
        assertEquals(IngressConfig.direct(), withIngress(Map.of("mode", "direct")).ingress());
    }

    @Test
    void readsTheGatewayAndTheActiveSigningKey() {
        KubernetesRuntimeConfig config = withIngress(Map.of("mode", "gateway",
            "gateway", Map.of("address", "*.sandboxes.example.com", "route", Map.of("mode", "wildcard")),
            "secure_access", Map.of("active_key", "b", "keys", List.of(
                Map.of("key_id", "a", "key", "b2xk"),
                Map.of("key_id", "b", "key", "bXktdGVzdC1zZWNyZXQ=")))));

        IngressConfig ingress = config.ingress();
        assertEquals(new IngressConfig.Gateway("*.sandboxes.example.com", IngressConfig.RouteMode.WILDCARD), ingress.gateway());
        assertEquals("b", ingress.signingKey().keyId());
        assertEquals("my-test-secret", new String(ingress.signingKey().secret(), StandardCharsets.UTF_8));
        assertFalse(ingress.signingKey().toString().contains("bXkt"), "the secret is never printed");

        IngressConfig unsigned = withIngress(Map.of("mode", "gateway",
            "gateway", Map.of("address", "gateway.example.com:8080", "route", Map.of("mode", "header")))).ingress();
        assertEquals(IngressConfig.RouteMode.HEADER, unsigned.gateway().routeMode());
        assertNull(unsigned.signingKey());
    }

    @Test
    void refusesIngressSettingsItCannotUse() {
        Map<String, Object> uriGateway = Map.of("address", "gateway.example.com", "route", Map.of("mode", "uri"));
        List<Map<String, Object>> refused = List.of(
            Map.of("mode", "tunnel"),
            Map.of("mode", "gateway", "gateway", Map.of("address", "gateway.example.com")),
            Map.of("mode", "gateway", "gateway", Map.of("address", "x", "route", Map.of("mode", "path"))),
            Map.of("mode", "gateway", "gateway", Map.of("address", "gateway.example.com", "route", Map.of("mode", "wildcard"))),
            Map.of("mode", "direct", "secure_access", Map.of("active_key", "a", "keys", List.of(Map.of("key_id", "a",
                "key", "b2xk")))),
            Map.of("mode", "gateway", "gateway", uriGateway, "secure_access", Map.of("active_key", "z",
                "keys", List.of(Map.of("key_id", "a", "key", "b2xk")))),
            Map.of("mode", "gateway", "gateway", uriGateway, "secure_access", Map.of("active_key", "a",
                "keys", List.of(Map.of("key_id", "a", "key", "not base64!")))),
            Map.of("mode", "gateway", "gateway", uriGateway, "secure_access", Map.of("active_key", "a")));
        for (Map<String, Object> ingress : refused) {
            UnavailableException error = assertThrows(UnavailableException.class, () -> withIngress(ingress),
                ingress::toString);
            assertEquals(KubernetesErrors.INITIALIZATION_ERROR, error.code());
            assertTrue(error.getMessage().contains("ingress."), error.getMessage());
        }
    }

    @Test
    void refusesAMissingOrNonMappingTemplateFile() throws IOException {
        Path list = Files.writeString(dir.resolve("list.yaml"), "- a\n- b\n");
        SandboxRuntimeProvider provider = new KubernetesRuntimeProvider();

        assertThrows(UnavailableException.class, () -> provider.create(context(Map.of("kubernetes",
            Map.of("namespace", "ns", "batchsandbox_template_file", dir.resolve("missing.yaml").toString())), Map.of())));
        assertThrows(UnavailableException.class, () -> provider.create(context(Map.of("kubernetes",
            Map.of("namespace", "ns", "batchsandbox_template_file", list.toString())), Map.of())));
    }

    @Test
    void loadsAYamlTemplate() throws IOException {
        Path file = Files.writeString(dir.resolve("t.yaml"),
            "spec:\n  template:\n    spec:\n      restartPolicy: Never\n      tolerations:\n        - operator: Exists\n");

        Map<String, Object> template = KubernetesRuntimeProvider.loadTemplate(
            KubernetesRuntimeConfig.defaults("ns").withTemplateFile(file.toString()));

        assertEquals("Never", ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) template.get("spec")).get("template")).get("spec"))
            .get("restartPolicy"));
    }

    @Test
    void connectsWithTheKubeconfigNamedByKubeconfigEnvironment() throws Exception {
        try (MockCluster cluster = new MockCluster()) {
            Path kubeconfig = Files.writeString(dir.resolve("config"), """
                apiVersion: v1
                kind: Config
                clusters:
                - name: mock
                  cluster: {server: "%s"}
                users:
                - name: me
                  user: {token: t}
                contexts:
                - name: mock
                  context: {cluster: mock, user: me, namespace: ns}
                current-context: mock
                """.formatted(cluster.url()));
            try (SandboxRuntime runtime = new KubernetesRuntimeProvider().create(context(
                Map.of("kubernetes", Map.of("namespace", "ns")), Map.of("KUBECONFIG", kubeconfig.toString())))) {
                assertEquals("kubernetes", runtime.type());
                assertTrue(runtime.list().isEmpty());
            }
            // The same with upstream's client-side rate limits: requests still go through, throttled.
            int before = cluster.requests(r -> !r.isWatch()).size();
            try (SandboxRuntime limited = new KubernetesRuntimeProvider().create(context(
                Map.of("kubernetes", Map.of("namespace", "ns", "read_qps", 50.0, "read_burst", 5L, "write_qps", 5L)),
                Map.of("KUBECONFIG", kubeconfig.toString())))) {
                assertTrue(limited.list().isEmpty());
                assertTrue(limited.inspect(dev.opensandbox.core.SandboxId.random()).isEmpty());
            }
            assertTrue(cluster.requests(r -> !r.isWatch()).size() > before, "the limited client reached the API server");
        }
    }
}
