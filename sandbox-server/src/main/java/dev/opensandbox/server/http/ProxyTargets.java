package dev.opensandbox.server.http;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.spi.EndpointPurpose;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the reverse proxy (HTTP and WebSocket) dials and whether the caller may: parses
 * {@code [/v1]/sandboxes/{id}/proxy/{port}[/{path}]} from the raw request URI (so the path and the
 * query reach the backend with their original encoding), checks the secure-access token, answers
 * paused sandboxes at once (upstream hung until its 180 s timeout) and resolves the INTERNAL
 * endpoint.
 */
final class ProxyTargets {

    static final String SECURE_ACCESS_HEADER = SandboxService.SECURE_ACCESS_HEADER;

    private static final Pattern RAW_PATH = Pattern.compile("^(?:/v1)?/sandboxes/([^/]+)/proxy/([^/]+)(?:/(.*))?$",
        Pattern.DOTALL);

    private final SandboxService sandboxes;
    private final AccessRenewals renewals;

    /** @param renewals renew-on-access, or null when it is off */
    ProxyTargets(SandboxService sandboxes, AccessRenewals renewals) {
        this.sandboxes = sandboxes;
        this.renewals = renewals;
    }

    ProxyTargets(SandboxService sandboxes) {
        this(sandboxes, null);
    }

    /**
     * A parsed proxy request.
     *
     * @param id    the sandbox
     * @param port  the port inside it (range-checked when resolving)
     * @param path  the raw backend path without its leading slash; empty for the backend root
     * @param query the raw query string, or null
     */
    record Target(SandboxId id, int port, String path, String query) {
    }

    /** Parses the raw request URI; 404 for an impossible sandbox id, 422 for a non-numeric port. */
    Target parse(String rawUri, String rawQuery) {
        Matcher m = RAW_PATH.matcher(rawUri);
        if (!m.matches()) {
            throw new ErrorResponses.ApiRejection(404, "GENERAL::NOT_FOUND", "Not Found");
        }
        String rawId = URLDecoder.decode(m.group(1), StandardCharsets.UTF_8);
        SandboxId id = SandboxId.tryParse(rawId).orElseThrow(() -> new NotFoundException(
            namespace() + "::SANDBOX_NOT_FOUND", "Sandbox " + rawId + " not found."));
        int port;
        try {
            port = Integer.parseInt(m.group(2));
        } catch (NumberFormatException e) {
            throw JsonObject.invalid("path.port", "Input should be a valid integer, unable to parse string as an integer");
        }
        return new Target(id, port, m.group(3) == null ? "" : m.group(3), rawQuery);
    }

    /**
     * Enforces the secure-access token of sandboxes created with {@code secureAccess}: the header
     * {@code OpenSandbox-Secure-Access} must equal it (constant-time comparison).
     */
    void checkAccess(SandboxId id, String presented) {
        Optional<String> token = sandboxes.accessToken(id);
        if (token.isEmpty()) {
            accessed(id);
            return;
        }
        if (presented == null || presented.isEmpty()) {
            throw new ErrorResponses.ApiRejection(401, "PROXY::SECURE_ACCESS_REQUIRED",
                "Sandbox " + id + " was created with secureAccess: send its token in the "
                    + SECURE_ACCESS_HEADER + " header (returned with its endpoints).");
        }
        if (!MessageDigest.isEqual(sha256(token.get()), sha256(presented))) {
            throw new ErrorResponses.ApiRejection(401, "PROXY::SECURE_ACCESS_INVALID",
                "The " + SECURE_ACCESS_HEADER + " header does not match the token of sandbox " + id + ".");
        }
        accessed(id);
    }

    /** Traffic that was let through keeps a sandbox with renew-on-access alive. */
    private void accessed(SandboxId id) {
        if (renewals != null) {
            renewals.accessed(id);
        }
    }

    /**
     * Where to dial: 404 for an unknown sandbox, 409 for a paused (or pausing) one, 400 for a port
     * outside 1..65535, else the runtime's INTERNAL endpoint ({@code host:port[/path]}).
     */
    Endpoint resolve(Target target) {
        Sandbox sandbox = sandboxes.get(target.id());
        SandboxState state = sandbox.status().state();
        if (state == SandboxState.PAUSED || state == SandboxState.PAUSING) {
            throw new ConflictException(namespace() + "::SANDBOX_NOT_RUNNING",
                "Sandbox " + target.id() + " is " + state.wireName().toLowerCase(java.util.Locale.ROOT)
                    + "; resume it before using its ports.");
        }
        return sandboxes.endpoint(target.id(), target.port(), EndpointPurpose.INTERNAL);
    }

    /** {@code scheme://address[/path][?query]}: the backend root is exactly the endpoint address. */
    static URI backendUri(String scheme, Endpoint endpoint, Target target) {
        String address = endpoint.address().replaceFirst("^[a-zA-Z][a-zA-Z0-9+.-]*://", "");
        while (address.endsWith("/")) {
            address = address.substring(0, address.length() - 1);
        }
        StringBuilder uri = new StringBuilder(scheme).append("://").append(address);
        if (!target.path().isEmpty()) {
            uri.append('/').append(escapeIllegal(target.path(), false));
        }
        if (target.query() != null) {
            uri.append('?').append(escapeIllegal(target.query(), true));
        }
        return URI.create(uri.toString());
    }

    /**
     * Keeps a raw path or query as the client wrote it (percent-escapes included) and escapes only
     * what {@link URI} would reject: spaces, controls, non-ASCII, stray {@code %}.
     */
    static String escapeIllegal(String raw, boolean query) {
        StringBuilder out = new StringBuilder(raw.length());
        byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            if (b == '%' && i + 2 < bytes.length && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
                out.append('%');
            } else if (b < 0x80 && legal((char) b, query)) {
                out.append((char) b);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                    .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return out.toString();
    }

    private static boolean isHex(byte b) {
        return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
    }

    private static boolean legal(char c, boolean query) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            return true;
        }
        if ("-._~!$&'()*+,;=:@/".indexOf(c) >= 0) {
            return true;
        }
        return query && c == '?';
    }

    String namespace() {
        return sandboxes.runtime().capabilities().errorNamespace();
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JVM", e);
        }
    }
}
