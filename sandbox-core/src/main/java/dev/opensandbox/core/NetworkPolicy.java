package dev.opensandbox.core;

import java.util.List;
import java.util.Objects;

/**
 * Outbound network rules, enforced by an egress sidecar.
 *
 * @param defaultAction {@code allow}, {@code deny}, or null (the sidecar then denies)
 * @param egress        rules evaluated in order
 */
public record NetworkPolicy(String defaultAction, List<Rule> egress) {

    public NetworkPolicy {
        egress = egress == null ? List.of() : List.copyOf(egress);
    }

    /**
     * The policy as the egress sidecar reads it: camelCase keys, no default action when there is
     * none. The separators are the caller's because upstream's runtimes write different bytes
     * (Docker keeps Python's {@code ", "} and {@code ": "}; Kubernetes writes compact JSON) and each
     * adapter keeps its upstream's bytes.
     */
    public String sidecarJson(String itemSeparator, String keySeparator) {
        StringBuilder json = new StringBuilder("{");
        if (defaultAction != null) {
            json.append("\"defaultAction\"").append(keySeparator);
            LabelJson.appendString(json, defaultAction);
            json.append(itemSeparator);
        }
        json.append("\"egress\"").append(keySeparator).append('[');
        for (int i = 0; i < egress.size(); i++) {
            Rule rule = egress.get(i);
            if (i > 0) {
                json.append(itemSeparator);
            }
            json.append("{\"action\"").append(keySeparator);
            LabelJson.appendString(json, rule.action());
            json.append(itemSeparator).append("\"target\"").append(keySeparator);
            LabelJson.appendString(json, rule.target());
            json.append('}');
        }
        return json.append("]}").toString();
    }

    /** One egress rule: {@code action} is {@code allow} or {@code deny}; {@code target} a domain, IP or CIDR. */
    public record Rule(String action, String target) {
        public Rule {
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(target, "target");
        }
    }
}
