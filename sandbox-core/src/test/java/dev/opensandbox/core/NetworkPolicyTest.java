package dev.opensandbox.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class NetworkPolicyTest {

    private final NetworkPolicy policy = new NetworkPolicy("deny", List.of(
        new NetworkPolicy.Rule("allow", "*.example.com"),
        new NetworkPolicy.Rule("deny", "10.0.0.0/8")));

    @Test
    void sidecarJsonWithPythonSeparatorsMatchesJsonDumpsDefaults() {
        assertEquals("{\"defaultAction\": \"deny\", \"egress\": [{\"action\": \"allow\", \"target\": \"*.example.com\"}, "
                + "{\"action\": \"deny\", \"target\": \"10.0.0.0/8\"}]}", policy.sidecarJson(", ", ": "));
    }

    @Test
    void sidecarJsonWithCompactSeparators() {
        assertEquals("{\"defaultAction\":\"deny\",\"egress\":[{\"action\":\"allow\",\"target\":\"*.example.com\"},"
                + "{\"action\":\"deny\",\"target\":\"10.0.0.0/8\"}]}", policy.sidecarJson(",", ":"));
    }

    @Test
    void sidecarJsonLeavesOutAMissingDefaultActionAndEscapesTargets() {
        NetworkPolicy odd = new NetworkPolicy(null, List.of(new NetworkPolicy.Rule("allow", "a\"b\\c")));
        assertEquals("{\"egress\":[{\"action\":\"allow\",\"target\":\"a\\\"b\\\\c\"}]}", odd.sidecarJson(",", ":"));
        assertEquals("{\"egress\": []}", new NetworkPolicy(null, null).sidecarJson(", ", ": "));
    }
}
