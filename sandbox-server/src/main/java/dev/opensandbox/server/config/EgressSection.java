package dev.opensandbox.server.config;

import java.util.List;
import java.util.Optional;

/**
 * {@code [egress]}: the egress sidecar used when a create request carries a network policy.
 *
 * @param image sidecar image; when absent, requests with a network policy are rejected
 * @param mode {@code dns} (default) or {@code dns+nft}, passed to the sidecar
 * @param disableIpv6 disable IPv6 in the sandbox network namespace (default true)
 */
public record EgressSection(Optional<String> image, String mode, boolean disableIpv6) {

    static final List<String> MODES = List.of("dns", "dns+nft");

    public EgressSection {
        Check.notNull("egress.image", image).ifPresent(i -> {
            if (i.isEmpty()) {
                throw ConfigException.at("egress.image", "must not be empty (leave the key out instead)");
            }
        });
        Check.oneOf("egress.mode", mode, MODES);
    }

    static EgressSection defaults() {
        return new EgressSection(Optional.empty(), "dns", true);
    }
}
