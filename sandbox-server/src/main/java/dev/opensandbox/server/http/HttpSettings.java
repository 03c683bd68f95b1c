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
 */
public record HttpSettings(String apiKey, List<String> corsAllowedOrigins, String eip, int limitConcurrency,
                           Duration idleTimeout, int acceptQueueSize, int maxRequestThreads,
                           boolean proxyRequiresApiKey, Duration proxyResponseTimeout, Duration proxyIdleTimeout,
                           Duration renewOnAccessInterval) {

    public static final Duration DEFAULT_PROXY_RESPONSE_TIMEOUT = Duration.ofSeconds(180);
    public static final Duration DEFAULT_PROXY_IDLE_TIMEOUT = Duration.ofHours(1);

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
        proxyResponseTimeout = proxyResponseTimeout == null || proxyResponseTimeout.isNegative()
            || proxyResponseTimeout.isZero() ? DEFAULT_PROXY_RESPONSE_TIMEOUT : proxyResponseTimeout;
        proxyIdleTimeout = proxyIdleTimeout == null || proxyIdleTimeout.isNegative() || proxyIdleTimeout.isZero()
            ? DEFAULT_PROXY_IDLE_TIMEOUT : proxyIdleTimeout;
    }

    /** The listener settings with the proxy's defaults (no API key on the proxy, 180 s, 1 h). */
    public HttpSettings(String apiKey, List<String> corsAllowedOrigins, String eip, int limitConcurrency,
                        Duration idleTimeout, int acceptQueueSize, int maxRequestThreads) {
        this(apiKey, corsAllowedOrigins, eip, limitConcurrency, idleTimeout, acceptQueueSize, maxRequestThreads,
            false, null, null, null);
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
            maxRequestThreads, requiresApiKey, responseTimeout, idle, renewOnAccessInterval);
    }

    /** A copy where proxy traffic renews sandboxes at most once per {@code interval} each; null disables it. */
    public HttpSettings withRenewOnAccess(Duration interval) {
        return new HttpSettings(apiKey, corsAllowedOrigins, eip, limitConcurrency, idleTimeout, acceptQueueSize,
            maxRequestThreads, proxyRequiresApiKey, proxyResponseTimeout, proxyIdleTimeout, interval);
    }
}
