package dev.opensandbox.server.http;

import java.util.List;

/**
 * What the HTTP layer needs from the configuration.
 *
 * @param apiKey             the API key clients must send, or null to disable authentication
 * @param corsAllowedOrigins origins allowed by CORS; {@code *} reflects any origin (upstream's behavior)
 * @param eip                public host for {@code use_server_proxy} URLs, or null to use the request's Host
 */
public record HttpSettings(String apiKey, List<String> corsAllowedOrigins, String eip) {

    public HttpSettings {
        apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey;
        corsAllowedOrigins = corsAllowedOrigins == null ? List.of("*") : List.copyOf(corsAllowedOrigins);
        eip = eip == null || eip.isBlank() ? null : eip.strip();
    }

    public static HttpSettings insecureDefaults() {
        return new HttpSettings(null, List.of("*"), null);
    }
}
