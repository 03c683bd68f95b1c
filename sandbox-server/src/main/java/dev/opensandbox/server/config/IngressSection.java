package dev.opensandbox.server.config;

import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code [ingress]}: how clients reach sandbox endpoints. Absent means direct mode.
 *
 * @param mode {@code direct} (default) or {@code gateway}
 * @param gateway required in gateway mode, forbidden in direct mode
 * @param secureAccess signed routes and access tokens (OSEP-0011); gateway mode only
 */
public record IngressSection(String mode, Optional<Gateway> gateway, Optional<SecureAccess> secureAccess) {

    public static final String DIRECT = "direct";
    public static final String GATEWAY = "gateway";
    static final List<String> MODES = List.of(DIRECT, GATEWAY);

    public IngressSection {
        Check.oneOf("ingress.mode", mode, MODES);
        Check.notNull("ingress.gateway", gateway);
        Check.notNull("ingress.secure_access", secureAccess);
        if (GATEWAY.equals(mode) && gateway.isEmpty()) {
            throw ConfigException.at("ingress.gateway", "is required when ingress.mode = \"gateway\"");
        }
        if (DIRECT.equals(mode) && gateway.isPresent()) {
            throw ConfigException.at("ingress.gateway", "is not allowed when ingress.mode = \"direct\"");
        }
        if (secureAccess.isPresent() && !GATEWAY.equals(mode)) {
            throw ConfigException.at("ingress.secure_access", "requires ingress.mode = \"gateway\"");
        }
    }

    static IngressSection defaults() {
        return new IngressSection(DIRECT, Optional.empty(), Optional.empty());
    }

    public boolean isGateway() {
        return GATEWAY.equals(mode);
    }

    /**
     * {@code [ingress.gateway]} (or dotted {@code gateway.*} keys under {@code [ingress]}).
     *
     * @param address gateway host, optionally with a port, never with a scheme; its shape depends
     *     on the route mode (see {@link #routeMode})
     * @param routeMode {@code wildcard} ({@code *.} and at least two DNS labels), {@code header}
     *     (a hostname or IPv4 address, optional port) or {@code uri} (anything without {@code *})
     */
    public record Gateway(String address, String routeMode) {
        static final List<String> ROUTE_MODES = List.of("wildcard", "header", "uri");
        private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,62})");
        private static final Pattern DIGITS = Pattern.compile("[0-9]+");

        public Gateway {
            Check.notBlank("ingress.gateway.address", address);
            Check.oneOf("ingress.gateway.route.mode", routeMode, ROUTE_MODES);
            if (address.contains("://")) {
                throw bad(address, "must not contain a scheme (\"://\")");
            }
            switch (routeMode) {
                case "wildcard":
                    checkWildcard(address);
                    break;
                case "header":
                    checkHeader(address);
                    break;
                default:
                    if (address.contains("*")) {
                        throw bad(address, "must not contain \"*\" in uri route mode");
                    }
            }
        }

        private static void checkWildcard(String address) {
            if (!address.startsWith("*.")) {
                throw bad(address, "must look like \"*.example.com\" in wildcard route mode");
            }
            String[] labels = address.substring(2).split("\\.", -1);
            if (labels.length < 2 || !allLabels(labels) || allNumeric(labels)) {
                throw bad(address, "must be \"*.\" followed by at least two DNS labels, without port or IP,"
                        + " in wildcard route mode");
            }
        }

        private static void checkHeader(String address) {
            if (address.contains("*")) {
                throw bad(address, "must not contain \"*\" in header route mode");
            }
            String host = address;
            int colon = address.indexOf(':');
            if (colon >= 0) {
                if (address.indexOf(':', colon + 1) >= 0 || address.startsWith("[")) {
                    throw bad(address, "must be a hostname or IPv4 address (IPv6 is not supported) in header route mode");
                }
                host = address.substring(0, colon);
                String port = address.substring(colon + 1);
                if (!DIGITS.matcher(port).matches() || port.length() > 5 || Integer.parseInt(port) < 1
                        || Integer.parseInt(port) > 65535) {
                    throw bad(address, "has an invalid port (must be 1-65535)");
                }
            }
            String[] labels = host.split("\\.", -1);
            boolean hostname = host.length() <= 253 && allLabels(labels) && !allNumeric(labels);
            boolean ipv4 = labels.length == 4 && allNumeric(labels) && octets(labels);
            if (!hostname && !ipv4) {
                throw bad(address, "must be a hostname or IPv4 address with an optional :port in header route mode");
            }
        }

        private static boolean allLabels(String[] labels) {
            for (String label : labels) {
                if (!LABEL.matcher(label).matches()) {
                    return false;
                }
            }
            return true;
        }

        private static boolean allNumeric(String[] labels) {
            for (String label : labels) {
                if (!DIGITS.matcher(label).matches()) {
                    return false;
                }
            }
            return true;
        }

        private static boolean octets(String[] labels) {
            for (String label : labels) {
                if (label.length() > 3 || Integer.parseInt(label) > 255) {
                    return false;
                }
            }
            return true;
        }

        private static ConfigException bad(String address, String problem) {
            return ConfigException.at("ingress.gateway.address", problem + " (got \"" + address + "\")");
        }
    }

    /**
     * {@code [ingress.secure_access]}: keys for signed routes.
     *
     * @param activeKey id of the key used to sign; must name one of {@code keys}
     * @param keys at least one key, ids unique
     */
    public record SecureAccess(String activeKey, List<SigningKey> keys) {
        public SecureAccess {
            Check.notNull("ingress.secure_access.active_key", activeKey);
            SigningKey.checkId("ingress.secure_access.active_key", activeKey);
            keys = List.copyOf(Check.notNull("ingress.secure_access.keys", keys));
            if (keys.isEmpty()) {
                throw ConfigException.at("ingress.secure_access.keys", "needs at least one key");
            }
            Set<String> ids = new HashSet<>();
            for (SigningKey key : keys) {
                if (!ids.add(key.keyId())) {
                    throw ConfigException.at("ingress.secure_access.keys",
                            "key_id \"" + key.keyId() + "\" is used more than once");
                }
            }
            if (!ids.contains(activeKey)) {
                throw ConfigException.at("ingress.secure_access.active_key",
                        "must name one of the configured keys (got \"" + activeKey + "\")");
            }
        }

        /** The key named by {@link #activeKey}. */
        public SigningKey active() {
            return keys.stream().filter(k -> k.keyId().equals(activeKey)).findFirst().orElseThrow();
        }
    }

    /**
     * One {@code [[ingress.secure_access.keys]]} entry.
     *
     * @param keyId one character {@code [0-9a-z]}
     * @param keyBase64 the secret, base64 with or without padding, at least one byte
     */
    public record SigningKey(String keyId, String keyBase64) {
        private static final Pattern ID = Pattern.compile("[0-9a-z]");

        public SigningKey {
            checkId("ingress.secure_access.keys.key_id", keyId);
            Check.notNull("ingress.secure_access.keys.key", keyBase64);
            if (decode(keyBase64).length < 1) {
                throw ConfigException.at("ingress.secure_access.keys.key", "must decode to at least one byte");
            }
        }

        static void checkId(String key, String id) {
            Check.notNull(key, id);
            if (!ID.matcher(id).matches()) {
                throw ConfigException.at(key, "must be one character in [0-9a-z] (got \"" + id + "\")");
            }
        }

        /** The decoded secret (a fresh copy). */
        public byte[] secret() {
            return decode(keyBase64);
        }

        @Override
        public String toString() {
            return "SigningKey[keyId=" + keyId + ", key=***]";
        }

        private static byte[] decode(String value) {
            try {
                // The basic decoder accepts both padded and unpadded input.
                return Base64.getDecoder().decode(value);
            } catch (IllegalArgumentException e) {
                throw ConfigException.at("ingress.secure_access.keys.key", "is not valid base64");
            }
        }
    }
}
