package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.NetworkPolicy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EgressPodTest {

    private static final NetworkPolicy POLICY = new NetworkPolicy("deny", List.of(new NetworkPolicy.Rule("allow", "pypi.org")));
    private static final EgressPod.Settings SETTINGS = new EgressPod.Settings("egress:1", "dns+nft", true);

    private static Map<String, Object> pod(boolean installer) {
        Map<String, Object> sandbox = new LinkedHashMap<>();
        sandbox.put("name", "sandbox");
        sandbox.put("image", "python:3.11");
        sandbox.put("env", List.of(Map.of("name", "A", "value", "1")));
        Map<String, Object> pod = new LinkedHashMap<>();
        pod.put("containers", List.of(sandbox));
        if (installer) {
            pod.put("initContainers", List.of(Map.of("name", "execd-installer", "args", List.of("cp ./execd x"))));
        }
        return pod;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> container(Map<String, Object> pod, int index) {
        return ((List<Map<String, Object>>) pod.get("containers")).get(index);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> inits(Map<String, Object> pod) {
        return (List<Map<String, Object>>) pod.get("initContainers");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theSidecarCarriesPolicyModeTokenAndAProbeThatSendsTheToken() {
        Map<String, Object> pod = pod(true);
        EgressPod.apply(pod, SETTINGS, POLICY, false, "tok", "python:3.11");

        Map<String, Object> egress = container(pod, 1);
        assertEquals("egress", egress.get("name"));
        assertEquals("egress:1", egress.get("image"));
        assertEquals(List.of(Map.of("name", "OPENSANDBOX_EGRESS_RULES",
                "value", "{\"defaultAction\":\"deny\",\"egress\":[{\"action\":\"allow\",\"target\":\"pypi.org\"}]}"),
            Map.of("name", "OPENSANDBOX_EGRESS_MODE", "value", "dns+nft"),
            Map.of("name", "OPENSANDBOX_EGRESS_TOKEN", "value", "tok")), egress.get("env"));
        assertEquals(Map.of("capabilities", Map.of("add", List.of("NET_ADMIN"))), egress.get("securityContext"));
        assertEquals(List.of(Map.of("name", "egress-api", "containerPort", 18080)), egress.get("ports"));
        Map<String, Object> probe = (Map<String, Object>) egress.get("readinessProbe");
        Map<String, Object> httpGet = (Map<String, Object>) probe.get("httpGet");
        assertEquals("/healthz", httpGet.get("path"));
        assertEquals(18080, httpGet.get("port"));
        assertEquals(List.of(Map.of("name", "OPENSANDBOX-EGRESS-AUTH", "value", "tok")), httpGet.get("httpHeaders"));
        assertEquals(1, probe.get("periodSeconds"));
        assertEquals(30, probe.get("failureThreshold"));
        assertEquals(Map.of("capabilities", Map.of("drop", List.of("NET_ADMIN"))), container(pod, 0).get("securityContext"));
        Map<String, Object> installer = inits(pod).get(0);
        assertEquals(List.of("set -e; echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && cp ./execd x"),
            installer.get("args"), "upstream's way: the installer switches IPv6 off");
        assertEquals(Map.of("privileged", true), installer.get("securityContext"));
    }

    @Test
    void withoutAnInstallerAnInitContainerOfItsOwnSwitchesIpv6Off() {
        Map<String, Object> pod = pod(false);
        EgressPod.apply(pod, SETTINGS, POLICY, false, "tok", "python:3.11");

        Map<String, Object> init = inits(pod).get(0);
        assertEquals("egress-disable-ipv6", init.get("name"));
        assertEquals("python:3.11", init.get("image"));
        assertEquals(List.of("/bin/sh", "-c"), init.get("command"));
        assertEquals(Map.of("privileged", true), init.get("securityContext"));

        Map<String, Object> noIpv6Rule = pod(false);
        EgressPod.apply(noIpv6Rule, new EgressPod.Settings("egress:1", "dns", false), POLICY, false, "tok", "x");
        assertTrue(!noIpv6Rule.containsKey("initContainers"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void theCredentialProxyMarksBothContainersAndSharesTheInstallDirectory() {
        Map<String, Object> pod = pod(true);
        EgressPod.apply(pod, SETTINGS, POLICY, true, "tok", "python:3.11");

        List<Map<String, Object>> sandboxEnv = new ArrayList<>((List<Map<String, Object>>) container(pod, 0).get("env"));
        assertEquals(Map.of("name", "OPENSANDBOX_EGRESS_MITMPROXY_TRANSPARENT", "value", "true"), sandboxEnv.get(0));
        assertEquals(Map.of("name", "A", "value", "1"), sandboxEnv.get(1));
        Map<String, Object> egress = container(pod, 1);
        assertTrue(((List<Map<String, Object>>) egress.get("env")).contains(
            Map.of("name", "OPENSANDBOX_EGRESS_MITMPROXY_TRANSPARENT", "value", "true")));
        assertEquals(List.of(Map.of("name", "opensandbox-bin", "mountPath", "/opt/opensandbox")), egress.get("volumeMounts"));
    }

    @Test
    void aPolicyWithoutADefaultActionLeavesItOut() {
        assertEquals("{\"egress\":[]}", EgressPod.rulesJson(new NetworkPolicy(null, List.of())));
    }

    @Test
    void settingsComeFromTheEgressSectionAndNeedAnImage() {
        assertEquals(null, EgressPod.settingsFrom(Map.of()));
        assertEquals(new EgressPod.Settings("egress:1", "dns", true), EgressPod.settingsFrom(Map.of("image", "egress:1")));
        assertEquals(new EgressPod.Settings("egress:1", "dns+nft", false),
            EgressPod.settingsFrom(Map.of("image", "egress:1", "mode", "dns+nft", "disable_ipv6", false)));
        org.junit.jupiter.api.Assertions.assertThrows(dev.opensandbox.core.UnavailableException.class,
            () -> EgressPod.settingsFrom(Map.of("image", "egress:1", "mode", "iptables")));
    }
}
