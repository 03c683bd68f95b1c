package dev.opensandbox.server.http;

import java.time.Duration;
import java.util.List;

/**
 * What the HTTP layer needs from the configuration.
 *
 * @param apiKey             the API key clients must send, or null to disable authentication
 * @param corsAllowedOrigins origins allowed by CORS; {@code *} reflects any origin (upstream's behavior)
 * @param eip                public host for {@code use_server_proxy} URLs, or null to use the request's Host
 * @param limitConcurrency   requests in flight above which the server answers 503; 0 means unlimited
 * @param idleTimeout        how long an idle keep-alive connection stays open
 * @param acceptQueueSize    the listen backlog
 * @param maxRequestThreads  Jetty's request threads (runtime calls run on their own executor)
 */
public record HttpSettings(String apiKey, List<String> corsAllowedOrigins, String eip, int limitConcurrency,
                           Duration idleTimeout, int acceptQueueSize, int maxRequestThreads) {

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
    }

    /** Upstream's defaults for everything but the three client-facing settings. */
    public HttpSettings(String apiKey, List<String> corsAllowedOrigins, String eip) {
        this(apiKey, corsAllowedOrigins, eip, 1024, Duration.ofSeconds(30), 2048, 200);
    }

    public static HttpSettings insecureDefaults() {
        return new HttpSettings(null, List.of("*"), null);
    }
}
