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

    /** One egress rule: {@code action} is {@code allow} or {@code deny}; {@code target} a domain, IP or CIDR. */
    public record Rule(String action, String target) {
        public Rule {
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(target, "target");
        }
    }
}
