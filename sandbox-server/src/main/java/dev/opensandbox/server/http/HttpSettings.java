package dev.opensandbox.server.http;

import java.time.Duration;
import java.util.List;

/**
 * What the HTTP layer needs from the configuration.
 *
 * @param apiKey              the API key clients must send, or null to disable authentication
 * @param corsAllowedOrigins  origins allowed by CORS; {@code *} reflects any origin (upstream's behavior)
 * @param eip                 public host for {@code use_server_proxy} URLs, or null to use the request's Host
 * @param limitConcurrency    requests in flight above which the server answers 503; 0 means unlimited
 * @param idleTimeout         how long an idle keep-alive connection stays open
 * @param acceptQueueSize     the listen backlog
 * @param maxRequestThreads   Jetty's request threads (runtime calls run on their own executor)
 * @param proxyRequiresApiKey when true, {@code /sandboxes/{id}/proxy/{port}/...} requires the API key like every
 *                            other route (HTTP and WebSocket); false (default) exempts it, as upstream, so that
 *                            SDKs which do not send the key to sandbox endpoints keep working
 * @param proxyResponseTimeout the longest the proxy waits for a backend's response headers (then 504
 *                            {@code PROXY::BACKEND_TIMEOUT}); default 180 s as upstream
 * @param proxyIdleTimeout    the longest a proxied response body or WebSocket may stay silent before the proxy
 *                            cuts it; default 1 hour (streams such as SSE have no overall limit)
 * @param renewOnAccessInterval when set ({@code [renew_intent] enabled}), traffic through the proxy renews
 *                            sandboxes created with {@code access.renew.extend.seconds}, at most once per this
 *                            interval per sandbox; null disables it
 * @param maxRequestBodyBytes the largest JSON API request body ({@code [server] max_request_body_bytes}), counted
 *                            as it is read whatever its framing; larger ones are 413 {@code GENERAL::REQUEST_TOO_LARGE}.
 *                            The proxy and the execd upload stream their bodies and are not limited. Default 1 MiB
 * @param bodyReadTimeout     the longest a JSON API body may pause before the server gives up with 408
 *                            {@code GENERAL::REQUEST_TIMEOUT}; default 10 s
 * @param healthProbeInterval how often {@code /health} asks the runtime whether its platform answers; default 5 s
 * @param upgradeTimeout      the longest a WebSocket upgrade to the proxy waits for its sandbox to resolve and its
 *                            backend to connect, before the client is closed with 1011; default 20 s
 */
public record HttpSettings(String apiKey, List<String> corsAllowedOrigins, String eip, int limitConcurrency,
                           Duration idleTimeout, int acceptQueueSize, int maxRequestThreads,
                           boolean proxyRequiresApiKey, Duration proxyResponseTimeout, Duration proxyIdleTimeout,
                           Duration renewOnAccessInterval, long maxRequestBodyBytes, Duration bodyReadTimeout,
                           Duration healthProbeInterval, Duration upgradeTimeout) {

    public static final Duration DEFAULT_PROXY_RESPONSE_TIMEOUT = Duration.ofSeconds(180);
    public static final Duration DEFAULT_PROXY_IDLE_TIMEOUT = Duration.ofHours(1);
    public static final long DEFAULT_MAX_REQUEST_BODY_BYTES = 1024 * 1024;
    public static final Duration DEFAULT_BODY_READ_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_HEALTH_PROBE_INTERVAL = Duration.ofSeconds(5);
    public static final Duration DEFAULT_UPGRADE_TIMEOUT = Duration.ofSeconds(20);

    public HttpSettings {
        apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey;
        corsAllowedOrigins = corsAllowedOrigins == null ? List.of("*") : List.copyOf(corsAllowedOrigins);
        eip = eip == null || eip.isBlank() ? null : eip.strip();
        if (limitConcurrency < 0) {
            throw new IllegalArgumentException("limitConcurrency must be >= 0");
        }
        idleTimeout = idleTimeout == null ? Duration.ofSeconds(30) : idleTimeout;
        acceptQueueSize = acceptQueueSize < 1 ? 2048 : acceptQueueSize;
        maxRequestThreads = maxRequestThreads < 8 ? 200 : maxRequestThreads;
        proxyResponseTimeout = positiveOr(proxyResponseTimeout, DEFAULT_PROXY_RESPONSE_TIMEOUT);
        proxyIdleTimeout = positiveOr(proxyIdleTimeout, DEFAULT_PROXY_IDLE_TIMEOUT);
        maxRequestBodyBytes = maxRequestBodyBytes < 1 ? DEFAULT_MAX_REQUEST_BODY_BYTES : maxRequestBodyBytes;
        bodyReadTimeout = positiveOr(bodyReadTimeout, DEFAULT_BODY_READ_TIMEOUT);
        healthProbeInterval = positiveOr(healthProbeInterval, DEFAULT_HEALTH_PROBE_INTERVAL);
        upgradeTimeout = positiveOr(upgradeTimeout, DEFAULT_UPGRADE_TIMEOUT);
    }

    private static Duration positiveOr(Duration value, Duration fallback) {
        return value == null || value.isNegative() || value.isZero() ? fallback : value;
    }

    /** The listener settings with the proxy's defaults (no API key on the proxy, 180 s, 1 h). */
    public HttpSettings(String apiKey, List<String> corsAllowedOrigins, String eip, int limitConcurrency,
                        Duration idleTimeout, int acceptQueueSize, int maxRequestThreads) {
        this(apiKey, corsAllowedOrigins, eip, limitConcurrency, idleTimeout, acceptQueueSize, maxRequestThreads,
            false, null, null, null, 0, null, null, null);
    }

    /** Upstream's defaults for everything but the three client-facing settings. */
    public HttpSettings(String apiKey, List<String> corsAllowedOrigins, String eip) {
        this(apiKey, corsAllowedOrigins, eip, 1024, Duration.ofSeconds(30), 2048, 200);
    }

    public static HttpSettings insecureDefaults() {
        return new HttpSettings(null, List.of("*"), null);
    }

    /** A copy with other proxy settings; null durations mean the defaults. */
    public HttpSettings withProxy(boolean requiresApiKey, Duration responseTimeout, Duration idle) {
        return new HttpSettings(apiKey, corsAllowedOrigins, eip, limitConcurrency, idleTimeout, acceptQueueSize,
            maxRequestThreads, requiresApiKey, responseTimeout, idle, renewOnAccessInterval, maxRequestBodyBytes,
            bodyReadTimeout, healthProbeInterval, upgradeTimeout);
    }

    /** A copy where proxy traffic renews sandboxes at most once per {@code interval} each; null disables it. */
    public HttpSettings withRenewOnAccess(Duration interval) {
        return new HttpSettings(apiKey, corsAllowedOrigins, eip, limitConcurrency, idleTimeout, acceptQueueSize,
            maxRequestThreads, proxyRequiresApiKey, proxyResponseTimeout, proxyIdleTimeout, interval, maxRequestBodyBytes,
            bodyReadTimeout, healthProbeInterval, upgradeTimeout);
    }

    /** A copy with other JSON body limits; 0 and null mean the defaults. */
    public HttpSettings withRequestBodies(long maxBytes, Duration readTimeout) {
        return new HttpSettings(apiKey, corsAllowedOrigins, eip, limitConcurrency, idleTimeout, acceptQueueSize,
            maxRequestThreads, proxyRequiresApiKey, proxyResponseTimeout, proxyIdleTimeout, renewOnAccessInterval,
            maxBytes, readTimeout, healthProbeInterval, upgradeTimeout);
    }

    /** A copy that probes the runtime for {@code /health} every {@code interval}; null means the default. */
    public HttpSettings withHealthProbeInterval(Duration interval) {
        return new HttpSettings(apiKey, corsAllowedOrigins, eip, limitConcurrency, idleTimeout, acceptQueueSize,
            maxRequestThreads, proxyRequiresApiKey, proxyResponseTimeout, proxyIdleTimeout, renewOnAccessInterval,
            maxRequestBodyBytes, bodyReadTimeout, interval, upgradeTimeout);
    }

    /** A copy whose WebSocket upgrades wait at most {@code timeout} for their backend; null means the default. */
    public HttpSettings withUpgradeTimeout(Duration timeout) {
        return new HttpSettings(apiKey, corsAllowedOrigins, eip, limitConcurrency, idleTimeout, acceptQueueSize,
            maxRequestThreads, proxyRequiresApiKey, proxyResponseTimeout, proxyIdleTimeout, renewOnAccessInterval,
            maxRequestBodyBytes, bodyReadTimeout, healthProbeInterval, timeout);
    }

    /**
     * WebSocket upgrades to the proxy resolve their sandbox while holding a request thread; at most this many at
     * once (a quarter of the request threads), the others are refused with 503 so the rest of the API keeps its threads.
     */
    public int maxPendingUpgrades() {
        return Math.max(1, maxRequestThreads / 4);
    }
}
