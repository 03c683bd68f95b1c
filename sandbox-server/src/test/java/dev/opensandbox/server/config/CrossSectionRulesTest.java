package dev.opensandbox.server.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CrossSectionRulesTest {
    private static final String DOCKER = "[runtime]\ntype = \"docker\"\n";
    private static final String K8S = "[runtime]\ntype = \"kubernetes\"\n";

    @TempDir
    Path home;

    private ServerConfig load(String content) throws IOException {
        return load(content, Map.of());
    }

    private ServerConfig load(String content, Map<String, String> env) throws IOException {
        Path file = home.resolve("config.toml");
        Files.writeString(file, content);
        return new ConfigLoader(env, home).loadFile(file).config();
    }

    private String fails(String content) throws IOException {
        Path file = home.resolve("config.toml");
        Files.writeString(file, content);
        String message = assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of(), home).loadFile(file))
                .getMessage();
        assertTrue(message.startsWith(file + ": "), message);
        return message.substring(file.toString().length() + 2);
    }

    private static String gateway(String address, String routeMode) {
        return K8S + "[ingress]\nmode = \"gateway\"\ngateway.address = \"" + address + "\"\ngateway.route.mode = \""
                + routeMode + "\"\n";
    }

    @Test
    void dockerRuntimeForbidsKubernetesSection() throws IOException {
        assertEquals("kubernetes: the [kubernetes] section is not allowed with runtime.type = \"docker\"",
                fails(DOCKER + "[kubernetes]\nnamespace = \"x\"\n"));
    }

    @Test
    void dockerRuntimeForbidsAgentSandboxGatewayIngressAndFirecracker() throws IOException {
        assertTrue(fails(DOCKER + "[agent_sandbox]\nshutdown_policy = \"Retain\"\n").startsWith("agent_sandbox:"));
        assertTrue(fails(DOCKER + "[ingress]\nmode = \"gateway\"\ngateway.address = \"gw.example.com\"\n"
                + "gateway.route.mode = \"header\"\n").startsWith("ingress.mode: must be \"direct\""));
        assertTrue(fails(DOCKER + "[secure_runtime]\ntype = \"firecracker\"\nk8s_runtime_class = \"fc\"\n")
                .startsWith("secure_runtime.type:"));
    }

    @Test
    void dockerSectionIsAcceptedWithKubernetesRuntime() throws IOException {
        assertEquals("bridge", load(K8S + "[docker]\nnetwork_mode = \"bridge\"\n").docker().networkMode());
    }

    @Test
    void agentSandboxNeedsTheAgentSandboxProviderAndIsFilledForIt() throws IOException {
        assertTrue(fails(K8S + "[agent_sandbox]\nshutdown_policy = \"Retain\"\n").startsWith("agent_sandbox:"));

        ServerConfig c = load(K8S + "[kubernetes]\nworkload_provider = \"Agent-Sandbox\"\n");
        assertEquals(KubernetesSection.WorkloadProvider.AGENT_SANDBOX, c.kubernetes().orElseThrow().workloadProvider());
        assertEquals(Optional.of(AgentSandboxSection.defaults()), c.agentSandbox());
        assertEquals("Delete", c.agentSandbox().orElseThrow().shutdownPolicy());
    }

    @Test
    void unknownWorkloadProviderAndPullPolicyAreRejected() throws IOException {
        assertTrue(fails(K8S + "[kubernetes]\nworkload_provider = \"pods\"\n")
                .startsWith("kubernetes.workload_provider: must be"));
        assertTrue(fails(K8S + "[kubernetes]\nimage_pull_policy = \"Sometimes\"\n")
                .startsWith("kubernetes.image_pull_policy: must be one of"));
    }

    @Test
    void batchsandboxTemplateMustExist() throws IOException {
        assertTrue(fails(K8S + "[kubernetes]\nbatchsandbox_template_file = \"~/missing.yaml\"\n")
                .startsWith("kubernetes.batchsandbox_template_file: file not found: " + home.resolve("missing.yaml")));

        Files.writeString(home.resolve("tpl.yaml"), "spec: {}\n");
        assertEquals(Optional.of(home.resolve("tpl.yaml")), load(K8S + "[kubernetes]\n"
                + "batchsandbox_template_file = \"~/tpl.yaml\"\n").kubernetes().orElseThrow().batchsandboxTemplateFile());
    }

    @Test
    void kubeconfigFallsBackToKubeconfigVariableThenInCluster() throws IOException {
        KubernetesSection fromEnv = load(K8S, Map.of("KUBECONFIG", "~/kube/a.yaml")).kubernetes().orElseThrow();
        assertEquals(Optional.of(home.resolve("kube/a.yaml")), fromEnv.kubeconfigPath());
        assertEquals(KubernetesSection.KubeconfigOrigin.KUBECONFIG_ENV, fromEnv.kubeconfigOrigin());

        KubernetesSection fromFile = load(K8S + "[kubernetes]\nkubeconfig_path = \"~/.kube/config\"\n",
                Map.of("KUBECONFIG", "/other")).kubernetes().orElseThrow();
        assertEquals(Optional.of(home.resolve(".kube/config")), fromFile.kubeconfigPath());
        assertEquals(KubernetesSection.KubeconfigOrigin.CONFIG_FILE, fromFile.kubeconfigOrigin());

        assertEquals(KubernetesSection.KubeconfigOrigin.IN_CLUSTER,
                load(K8S + "[kubernetes]\nnamespace = \"ns\"\n").kubernetes().orElseThrow().kubeconfigOrigin());
    }

    @Test
    void secureRuntimeEmptyTypeForbidsEvenEmptyNames() throws IOException {
        assertEquals(SecureRuntimeSection.defaults(), load(DOCKER + "[secure_runtime]\ntype = \"\"\n").secureRuntime());
        assertTrue(fails(DOCKER + "[secure_runtime]\ntype = \"\"\ndocker_runtime = \"\"\n")
                .startsWith("secure_runtime.docker_runtime: must be left out"));
        assertTrue(fails(K8S + "[secure_runtime]\ntype = \"\"\nk8s_runtime_class = \"x\"\n")
                .startsWith("secure_runtime.k8s_runtime_class: must be left out"));
    }

    @Test
    void secureRuntimeGvisorAndKataNeedOneNameWhichMayBeEmptyForTheDefault() throws IOException {
        assertTrue(fails(DOCKER + "[secure_runtime]\ntype = \"gvisor\"\n").startsWith("secure_runtime: type \"gvisor\""));
        SecureRuntimeSection gvisor = load(DOCKER + "[secure_runtime]\ntype = \"gvisor\"\ndocker_runtime = \"\"\n")
                .secureRuntime();
        assertEquals(Optional.of("runsc"), gvisor.effectiveDockerRuntime());
        SecureRuntimeSection kata = load(K8S + "[secure_runtime]\ntype = \"kata\"\nk8s_runtime_class = \"my-kata\"\n")
                .secureRuntime();
        assertEquals(Optional.of("my-kata"), kata.effectiveK8sRuntimeClass());
        assertEquals(Optional.of("kata-runtime"), kata.effectiveDockerRuntime());
    }

    @Test
    void secureRuntimeFirecrackerNeedsRuntimeClassOnKubernetes() throws IOException {
        assertTrue(fails(K8S + "[secure_runtime]\ntype = \"firecracker\"\n")
                .startsWith("secure_runtime.k8s_runtime_class: is required"));
        assertEquals("firecracker", load(K8S + "[secure_runtime]\ntype = \"firecracker\"\nk8s_runtime_class = \"\"\n")
                .secureRuntime().type());
        assertTrue(fails(K8S + "[secure_runtime]\ntype = \"runc\"\n").startsWith("secure_runtime.type: must be one of"));
    }

    @Test
    void gatewayModeNeedsGatewayAndDirectModeForbidsIt() throws IOException {
        assertEquals("ingress.gateway: is required when ingress.mode = \"gateway\"",
                fails(K8S + "[ingress]\nmode = \"gateway\"\n"));
        assertEquals("ingress.gateway: is not allowed when ingress.mode = \"direct\"",
                fails(K8S + "[ingress]\ngateway.address = \"gw.example.com\"\ngateway.route.mode = \"header\"\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"*.com", "sb.example.com", "*.10.0.0.1", "*.example.com:8080", "*.-bad.example.com"})
    void wildcardAddressNeedsStarDotAndTwoDnsLabels(String address) throws IOException {
        assertTrue(fails(gateway(address, "wildcard")).startsWith("ingress.gateway.address:"));
    }

    @Test
    void wildcardAddressAcceptsStarDotDomain() throws IOException {
        assertEquals("*.sb.example.com",
                load(gateway("*.sb.example.com", "wildcard")).ingress().gateway().orElseThrow().address());
    }

    @ParameterizedTest
    @ValueSource(strings = {"gw.example.com", "gw.example.com:8443", "10.0.0.1", "10.0.0.1:80", "localhost"})
    void headerAddressAcceptsHostnamesAndIpv4WithOptionalPort(String address) throws IOException {
        assertEquals(address, load(gateway(address, "header")).ingress().gateway().orElseThrow().address());
    }

    @ParameterizedTest
    @ValueSource(strings = {"[::1]:80", "fe80::1", "http://gw.example.com", "https://gw.example.com:443",
        "user:pw@gw.example.com", "gw.example.com:0", "gw.example.com:70000", "gw.example.com:abc", "*.example.com",
        "-gw.example.com", "300.1.1.1"})
    void headerAddressRejectsIpv6SchemesCredentialsBadPortsAndStars(String address) throws IOException {
        assertTrue(fails(gateway(address, "header")).startsWith("ingress.gateway.address:"));
    }

    @Test
    void uriAddressIsFreeFormButNoStarOrScheme() throws IOException {
        assertEquals("not a host", load(gateway("not a host", "uri")).ingress().gateway().orElseThrow().address());
        assertTrue(fails(gateway("*.example.com", "uri")).startsWith("ingress.gateway.address:"));
        assertTrue(fails(gateway("https://gw.example.com/sb", "uri")).startsWith("ingress.gateway.address:"));
        assertTrue(fails(gateway("  ", "uri")).startsWith("ingress.gateway.address: must not be empty"));
    }

    @Test
    void unknownRouteModeIsRejected() throws IOException {
        assertTrue(fails(gateway("gw.example.com", "path")).startsWith("ingress.gateway.route.mode: must be one of"));
    }

    @Test
    void secureAccessKeysDecodePaddedAndUnpaddedBase64() throws IOException {
        IngressSection.SecureAccess access = load(gateway("gw.example.com", "header")
                + "secure_access.active_key = \"b\"\n"
                + "[[ingress.secure_access.keys]]\nkey_id = \"a\"\nkey = \"c2VjcmV0MQ==\"\n"
                + "[[ingress.secure_access.keys]]\nkey_id = \"b\"\nkey = \"c2VjcmV0Mg\"\n")
                .ingress().secureAccess().orElseThrow();

        assertEquals(2, access.keys().size());
        assertEquals("b", access.active().keyId());
        assertArrayEquals("secret2".getBytes(StandardCharsets.US_ASCII), access.active().secret());
        assertArrayEquals("secret1".getBytes(StandardCharsets.US_ASCII), access.keys().get(0).secret());
    }

    @Test
    void secureAccessRulesOnIdsKeysAndMode() throws IOException {
        String gw = gateway("gw.example.com", "header");
        assertTrue(fails(gw + "secure_access.active_key = \"z\"\n[[ingress.secure_access.keys]]\nkey_id = \"a\"\n"
                + "key = \"c2VjcmV0\"\n").startsWith("ingress.secure_access.active_key: must name one of"));
        assertTrue(fails(gw + "secure_access.active_key = \"a\"\n[[ingress.secure_access.keys]]\nkey_id = \"a\"\n"
                + "key = \"c2VjcmV0\"\n[[ingress.secure_access.keys]]\nkey_id = \"a\"\nkey = \"c2VjcmV0\"\n")
                .startsWith("ingress.secure_access.keys: key_id \"a\" is used more than once"));
        assertTrue(fails(gw + "secure_access.active_key = \"ab\"\n[[ingress.secure_access.keys]]\nkey_id = \"ab\"\n"
                + "key = \"c2VjcmV0\"\n").contains("must be one character in [0-9a-z]"));
        assertTrue(fails(gw + "secure_access.active_key = \"A\"\n[[ingress.secure_access.keys]]\nkey_id = \"A\"\n"
                + "key = \"c2VjcmV0\"\n").contains("must be one character in [0-9a-z]"));
        assertTrue(fails(gw + "secure_access.active_key = \"a\"\n[[ingress.secure_access.keys]]\nkey_id = \"a\"\n"
                + "key = \"not base64!\"\n").startsWith("ingress.secure_access.keys.key: is not valid base64"));
        assertTrue(fails(gw + "secure_access.active_key = \"a\"\n[[ingress.secure_access.keys]]\nkey_id = \"a\"\n"
                + "key = \"\"\n").startsWith("ingress.secure_access.keys.key: must decode to at least one byte"));
        assertTrue(fails(gw + "secure_access.active_key = \"a\"\n")
                .startsWith("ingress.secure_access.keys: needs at least one key"));
        assertTrue(fails(K8S + "[ingress]\nmode = \"direct\"\nsecure_access.active_key = \"a\"\n"
                + "[[ingress.secure_access.keys]]\nkey_id = \"a\"\nkey = \"c2VjcmV0\"\n")
                .startsWith("ingress.secure_access: requires ingress.mode = \"gateway\""));
    }

    @Test
    void signingKeyToStringHidesTheSecret() {
        assertEquals("SigningKey[keyId=a, key=***]", new IngressSection.SigningKey("a", "c2VjcmV0").toString());
    }

    @Test
    void pidsLimitZeroOrMinusOneMeansUnlimited() throws IOException {
        assertEquals(OptionalLong.empty(), load(DOCKER + "[docker]\npids_limit = 0\n").docker().pidsLimit());
        assertEquals(OptionalLong.empty(), load(DOCKER + "[docker]\npids_limit = -1\n").docker().pidsLimit());
        assertEquals(OptionalLong.of(512), load(DOCKER + "[docker]\npids_limit = 512\n").docker().pidsLimit());
        assertTrue(fails(DOCKER + "[docker]\npids_limit = -2\n").startsWith("docker.pids_limit: must be at least 1"));
    }

    @Test
    void dockerApiTimeoutZeroMeansNoTimeoutAndEmptyProfilesAreUnset() throws IOException {
        DockerSection d = load(DOCKER + "[docker]\napi_timeout = 0\napparmor_profile = \"\"\nseccomp_profile = \"\"\n"
                + "drop_capabilities = []\n").docker();
        assertEquals(Optional.empty(), d.apiTimeout());
        assertEquals(Optional.empty(), d.apparmorProfile());
        assertEquals(Optional.empty(), d.seccompProfile());
        assertTrue(d.dropCapabilities().isEmpty());
    }

    @Test
    void storeAcceptsMemoryForDemos() throws IOException {
        assertEquals("memory", load(DOCKER + "[store]\ntype = \"memory\"\n").store().describe());
    }
}
