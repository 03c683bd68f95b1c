package dev.opensandbox.runtime.k8s;

import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * {@code [ingress]} as the Kubernetes runtime uses it: how clients reach sandbox ports (directly
 * at the pod IP, or through the OpenSandbox ingress gateway) and the key that signs routes
 * (OSEP-0011). The server has already validated the section's shapes (address rules per route
 * mode and so on); this record re-checks only what the runtime relies on, so that an embedder
 * without the server gets a clear start-up error instead of odd endpoints.
 *
 * @param gateway    the gateway, or null for direct mode (the default)
 * @param signingKey the active {@code [ingress.secure_access]} key, or null when none is configured
 *                   (signed routes are then refused with 400)
 */
public record IngressConfig(Gateway gateway, SigningKey signingKey) {

    public IngressConfig {
        if (signingKey != null && gateway == null) {
            throw KubernetesRuntimeConfig.invalid("ingress.secure_access requires ingress.mode = 'gateway'.");
        }
    }

    /** Direct mode: endpoints are pod IPs. */
    public static IngressConfig direct() {
        return new IngressConfig(null, null);
    }

    /** Gateway mode without signing keys. */
    public static IngressConfig gateway(String address, RouteMode routeMode) {
        return new IngressConfig(new Gateway(address, routeMode), null);
    }

    /** The same gateway, signing routes with {@code key}. */
    public IngressConfig withSigningKey(SigningKey key) {
        return new IngressConfig(gateway, key);
    }

    public boolean isGateway() {
        return gateway != null;
    }

    /** How the gateway finds the sandbox of a request. */
    public enum RouteMode {
        /** {@code <id>-<port>.<domain>}: the first DNS label names the target. */
        WILDCARD,
        /** The gateway's address, with header {@code OpenSandbox-Ingress-To: <id>-<port>}. */
        HEADER,
        /** {@code <address>/<id>/<port>}: the first two path segments name the target. */
        URI;

        static RouteMode parse(String value) {
            for (RouteMode mode : values()) {
                if (mode.name().equalsIgnoreCase(value)) {
                    return mode;
                }
            }
            throw KubernetesRuntimeConfig.invalid("ingress.gateway.route.mode must be 'wildcard', 'header' or 'uri', not '"
                + value + "'.");
        }
    }

    /**
     * {@code [ingress.gateway]}.
     *
     * @param address   host[:port] without a scheme; {@code *.domain} in wildcard mode
     * @param routeMode how the gateway routes
     */
    public record Gateway(String address, RouteMode routeMode) {
        public Gateway {
            if (address == null || address.isBlank()) {
                throw KubernetesRuntimeConfig.invalid("ingress.gateway.address is required in gateway mode.");
            }
            Objects.requireNonNull(routeMode, "routeMode");
            if (routeMode == RouteMode.WILDCARD && !address.startsWith("*.")) {
                throw KubernetesRuntimeConfig.invalid("ingress.gateway.address must look like '*.example.com' in "
                    + "wildcard route mode (got '" + address + "').");
            }
        }

        /** The domain under which wildcard hosts live: the address without its leading {@code *.}. */
        String wildcardDomain() {
            return address.substring(2);
        }
    }

    /**
     * The active {@code [[ingress.secure_access.keys]]} entry.
     *
     * @param keyId  one character {@code [0-9a-z]}; it ends every signature, so the gateway knows
     *               which of its keys to check against
     * @param secret the decoded secret, at least one byte (copied in and out)
     */
    public record SigningKey(String keyId, byte[] secret) {
        public SigningKey {
            if (keyId == null || !keyId.matches("[0-9a-z]")) {
                throw KubernetesRuntimeConfig.invalid("ingress.secure_access key ids must be one character in [0-9a-z] "
                    + "(got '" + keyId + "').");
            }
            if (secret == null || secret.length == 0) {
                throw KubernetesRuntimeConfig.invalid("ingress.secure_access key '" + keyId + "' is empty.");
            }
            secret = secret.clone();
        }

        /** A key from its configured base64 text (padded or not). */
        public static SigningKey fromBase64(String keyId, String base64) {
            try {
                return new SigningKey(keyId, Base64.getDecoder().decode(base64 == null ? "" : base64.trim()));
            } catch (IllegalArgumentException e) {
                throw KubernetesRuntimeConfig.invalid("ingress.secure_access key '" + keyId + "' is not valid base64.");
            }
        }

        @Override
        public byte[] secret() {
            return secret.clone();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof SigningKey key && key.keyId.equals(keyId) && java.util.Arrays.equals(key.secret, secret);
        }

        @Override
        public int hashCode() {
            return keyId.hashCode();
        }

        @Override
        public String toString() {
            return "SigningKey[keyId=" + keyId + ", secret=***]";
        }
    }

    /**
     * Reads the raw {@code [ingress]} table (nested maps: {@code gateway.route.mode} and the
     * {@code [ingress.gateway.route]} table are the same thing once parsed). An absent table is
     * direct mode.
     */
    static IngressConfig from(Map<String, Object> ingress) {
        String mode = text(ingress.get("mode"), "ingress.mode");
        mode = mode == null ? "direct" : mode.toLowerCase(Locale.ROOT);
        Map<String, Object> gatewayTable = table(ingress.get("gateway"), "ingress.gateway");
        Map<String, Object> secureTable = table(ingress.get("secure_access"), "ingress.secure_access");
        switch (mode) {
            case "direct":
                if (secureTable != null) {
                    throw KubernetesRuntimeConfig.invalid("ingress.secure_access requires ingress.mode = 'gateway'.");
                }
                return direct();
            case "gateway":
                if (gatewayTable == null) {
                    throw KubernetesRuntimeConfig.invalid("ingress.gateway is required when ingress.mode = 'gateway'.");
                }
                Map<String, Object> route = table(gatewayTable.get("route"), "ingress.gateway.route");
                String routeMode = route == null ? null : text(route.get("mode"), "ingress.gateway.route.mode");
                if (routeMode == null) {
                    throw KubernetesRuntimeConfig.invalid("ingress.gateway.route.mode is required in gateway mode.");
                }
                Gateway gateway = new Gateway(text(gatewayTable.get("address"), "ingress.gateway.address"),
                    RouteMode.parse(routeMode));
                return new IngressConfig(gateway, secureTable == null ? null : activeKey(secureTable));
            default:
                throw KubernetesRuntimeConfig.invalid("ingress.mode must be 'direct' or 'gateway', not '" + mode + "'.");
        }
    }

    private static SigningKey activeKey(Map<String, Object> secureAccess) {
        String active = text(secureAccess.get("active_key"), "ingress.secure_access.active_key");
        if (!(secureAccess.get("keys") instanceof List<?> keys)) {
            throw KubernetesRuntimeConfig.invalid("ingress.secure_access.keys must list at least one key.");
        }
        for (Object entry : keys) {
            Map<String, Object> key = table(entry, "ingress.secure_access.keys");
            if (key != null && Objects.equals(active, text(key.get("key_id"), "ingress.secure_access.keys.key_id"))) {
                return SigningKey.fromBase64(active, text(key.get("key"), "ingress.secure_access.keys.key"));
            }
        }
        throw KubernetesRuntimeConfig.invalid("ingress.secure_access.active_key must name one of the configured keys "
            + "(got '" + active + "').");
    }

    private static String text(Object value, String key) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof String string)) {
            throw KubernetesRuntimeConfig.invalid(key + " must be a string.");
        }
        return string.isBlank() ? null : string;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> table(Object value, String key) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw KubernetesRuntimeConfig.invalid(key + " must be a table.");
        }
        return (Map<String, Object>) map;
    }
}
