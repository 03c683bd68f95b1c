package dev.opensandbox.server.http;

import io.javalin.http.Context;
import org.slf4j.MDC;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The request filters, run in this order on every request: request id, CORS, API key.
 */
final class Filters {

    static final String REQUEST_ID_HEADER = "X-Request-ID";
    static final String API_KEY_HEADER = "OPEN-SANDBOX-API-KEY";
    static final String MDC_REQUEST_ID = "request_id";

    /** Inbound ids are echoed only when short and made of characters that cannot forge log lines. */
    private static final Pattern SAFE_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:\\-]{1,128}");
    /** The proxy route needs no API key by default (upstream compatibility); any ".." disqualifies. */
    private static final Pattern PROXY_PATH = Pattern.compile("^(/v1)?/sandboxes/[^/]+/proxy/\\d+(/.*)?$");
    /** Exact paths, not prefixes: upstream's prefix match exempted "/healthzzz" too. */
    private static final Set<String> PUBLIC_PATHS = Set.of("/health", "/openapi.json");

    private static final String MISSING_KEY_MESSAGE =
        "Authentication credentials are missing. Provide API key via OPEN-SANDBOX-API-KEY header.";
    private static final String INVALID_KEY_MESSAGE =
        "Authentication credentials are invalid. Check your API key and try again.";

    private final HttpSettings settings;
    private final byte[] apiKeyDigest;

    Filters(HttpSettings settings) {
        this.settings = settings;
        this.apiKeyDigest = settings.apiKey() == null ? null : sha256(settings.apiKey());
    }

    void requestId(Context ctx) {
        String inbound = ctx.header(REQUEST_ID_HEADER);
        String trimmed = inbound == null ? "" : inbound.trim();
        String id = SAFE_REQUEST_ID.matcher(trimmed).matches() ? trimmed : newRequestId();
        ctx.attribute(MDC_REQUEST_ID, id);
        ctx.header(REQUEST_ID_HEADER, id);
        MDC.put(MDC_REQUEST_ID, id);
    }

    static String newRequestId() {
        return UUID.randomUUID().toString().replace("-", "");
    }

    /** Adds CORS headers; answers preflights itself (before authentication, as upstream). */
    void cors(Context ctx) {
        String origin = ctx.header("Origin");
        if (origin == null || !originAllowed(origin)) {
            return;
        }
        ctx.header("Access-Control-Allow-Origin", origin);
        ctx.header("Access-Control-Allow-Credentials", "true");
        ctx.header("Vary", "Origin");
        boolean preflight = "OPTIONS".equalsIgnoreCase(ctx.method().name())
            && ctx.header("Access-Control-Request-Method") != null;
        if (preflight) {
            ctx.header("Access-Control-Allow-Methods", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
            String requested = ctx.header("Access-Control-Request-Headers");
            if (requested != null) {
                ctx.header("Access-Control-Allow-Headers", requested);
            }
            ctx.header("Access-Control-Max-Age", "600");
            ctx.status(200).contentType("text/plain; charset=utf-8").result("OK");
            ctx.skipRemainingHandlers();
        }
    }

    private boolean originAllowed(String origin) {
        return settings.corsAllowedOrigins().contains("*") || settings.corsAllowedOrigins().contains(origin);
    }

    /**
     * Requires the API key unless the path is public. Runs for HTTP requests ({@code before}) and for
     * WebSocket upgrades ({@code wsBeforeUpgrade}, see {@link ApiServer}), so that both follow one rule.
     */
    void auth(Context ctx) {
        String path = ctx.path();
        boolean exempt = PUBLIC_PATHS.contains(path) || (!settings.proxyRequiresApiKey() && isProxyPath(path));
        if (apiKeyDigest == null || exempt) {
            return;
        }
        String presented = ctx.header(API_KEY_HEADER);
        if (presented == null || presented.isEmpty()) {
            throw new ErrorResponses.ApiRejection(401, "MISSING_API_KEY", MISSING_KEY_MESSAGE);
        }
        // Compare digests: constant time, and the length of the key does not leak either.
        if (!MessageDigest.isEqual(apiKeyDigest, sha256(presented))) {
            throw new ErrorResponses.ApiRejection(401, "INVALID_API_KEY", INVALID_KEY_MESSAGE);
        }
    }

    /** A reverse-proxy path with a numeric port and without {@code ..} anywhere. */
    static boolean isProxyPath(String path) {
        return PROXY_PATH.matcher(path).matches() && !path.contains("..");
    }

    void clearMdc(Context ctx) {
        MDC.remove(MDC_REQUEST_ID);
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JVM", e);
        }
    }
}
