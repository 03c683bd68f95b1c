package dev.opensandbox.server.config;

import dev.opensandbox.core.Secrets;
import dev.opensandbox.core.service.ServicePolicy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * {@code [server]}: listener, tuning and API-key settings.
 *
 * @param host bind address ({@code host}, default {@code "0.0.0.0"}, not empty)
 * @param port listen port ({@code port}, 1–65535, default 8080)
 * @param keepAliveTimeout idle keep-alive timeout ({@code timeout_keep_alive} seconds, ≥ 1, default 30)
 * @param limitConcurrency concurrent connection cap ({@code limit_concurrency}, default 1024); empty
 *     means unlimited, which is how {@code 0} is written in TOML
 * @param backlog socket accept queue ({@code backlog}, ≥ 1, default 2048)
 * @param threadPoolSize maximum request worker threads ({@code thread_pool_size}, ≥ 1, default 200)
 * @param loop uvicorn's {@code loop} option; accepted for compatibility and ignored
 * @param http uvicorn's {@code http} option; accepted for compatibility and ignored
 * @param apiKey the single API key; empty when unset or blank (blank counts as no key)
 * @param eip public host for endpoint URLs ({@code eip}, stripped; blank means unset)
 * @param maxSandboxTimeout cap on {@code timeout} in create requests ({@code
 *     max_sandbox_timeout_seconds}, ≥ 60); empty means no cap
 * @param corsAllowedOrigins ours: allowed CORS origins ({@code cors_allowed_origins}); the default
 *     {@code ["*"]} reflects any origin with credentials, as upstream; {@code []} allows none
 * @param sweepInterval ours: how often expired sandboxes are looked for ({@code
 *     sweep_interval_seconds}, ≥ 1, default 10)
 * @param proxyRequiresApiKey ours: whether the sandbox proxy requires the API key like every
 *     other route ({@code proxy_requires_api_key}, default false, as upstream)
 * @param requireSecureAccess ours: every sandbox gets a secure-access token whatever its request
 *     says, so the proxy and the built-in execd require it ({@code require_secure_access}, default false)
 * @param maxRequestBodyBytes ours: the largest JSON API request body, chunked or not ({@code
 *     max_request_body_bytes}, ≥ 1, default 1 MiB); the proxy and the execd upload are not limited
 * @param defaultResourceLimits ours: {@code cpu} and {@code memory} of sandboxes whose request names
 *     none ({@code default_resource_limits}, a table; default none, as upstream: unlimited)
 * @param maxResourceLimits ours: the largest {@code cpu} and {@code memory} a create may ask for
 *     ({@code max_resource_limits}, a table; default none); a request naming none of a bounded key
 *     gets its default, else this maximum
 * @param diagnosticsVisibleEnv ours: environment variables whose values the diagnostics show
 *     ({@code diagnostics_visible_env}); every other value is masked
 */
public record ServerSection(
        String host,
        int port,
        Duration keepAliveTimeout,
        OptionalInt limitConcurrency,
        int backlog,
        int threadPoolSize,
        String loop,
        String http,
        Optional<String> apiKey,
        Optional<String> eip,
        Optional<Duration> maxSandboxTimeout,
        List<String> corsAllowedOrigins,
        Duration sweepInterval,
        boolean proxyRequiresApiKey,
        boolean requireSecureAccess,
        long maxRequestBodyBytes,
        Map<String, String> defaultResourceLimits,
        Map<String, String> maxResourceLimits,
        List<String> diagnosticsVisibleEnv) {

    static final List<String> LOOPS = List.of("auto", "uvloop", "asyncio");
    static final List<String> HTTPS = List.of("auto", "httptools", "h11");
    /** Minimum for {@code max_sandbox_timeout_seconds}, as upstream. */
    static final long MIN_MAX_SANDBOX_TIMEOUT_SECONDS = 60;
    /** Default of {@code max_request_body_bytes}: create bodies are a few KiB. */
    static final long DEFAULT_MAX_REQUEST_BODY_BYTES = 1024 * 1024;

    public ServerSection {
        Check.notBlank("server.host", host);
        Check.between("server.port", port, 1, 65535);
        Check.seconds("server.timeout_keep_alive", keepAliveTimeout, 1);
        Check.notNull("server.limit_concurrency", limitConcurrency);
        if (limitConcurrency.isPresent() && limitConcurrency.getAsInt() < 1) {
            throw ConfigException.at("server.limit_concurrency",
                    "must be at least 0, where 0 means unlimited (got " + limitConcurrency.getAsInt() + ")");
        }
        Check.atLeast("server.backlog", backlog, 1);
        Check.atLeast("server.thread_pool_size", threadPoolSize, 1);
        Check.oneOf("server.loop", loop, LOOPS);
        Check.oneOf("server.http", http, HTTPS);
        apiKey = Check.notNull("server.api_key", apiKey).filter(k -> !k.isBlank());
        eip = Check.notNull("server.eip", eip).map(String::strip).filter(e -> !e.isEmpty());
        Check.notNull("server.max_sandbox_timeout_seconds", maxSandboxTimeout)
                .ifPresent(d -> Check.atLeast("server.max_sandbox_timeout_seconds", d.toSeconds(),
                        MIN_MAX_SANDBOX_TIMEOUT_SECONDS));
        corsAllowedOrigins = Check.strings("server.cors_allowed_origins", corsAllowedOrigins);
        for (String origin : corsAllowedOrigins) {
            if (origin.isBlank() || !origin.strip().equals(origin) || origin.endsWith("/")) {
                throw ConfigException.at("server.cors_allowed_origins",
                        "each entry must be \"*\" or an origin like \"https://app.example.com\" without a trailing"
                                + " slash (got \"" + origin + "\")");
            }
        }
        Check.seconds("server.sweep_interval_seconds", sweepInterval, 1);
        Check.atLeast("server.max_request_body_bytes", maxRequestBodyBytes, 1);
        defaultResourceLimits = Check.stringMap("server.default_resource_limits", defaultResourceLimits);
        maxResourceLimits = Check.stringMap("server.max_resource_limits", maxResourceLimits);
        try {
            ServicePolicy.defaults().withResourceLimits(defaultResourceLimits, maxResourceLimits);
        } catch (IllegalArgumentException e) {
            throw ConfigException.at("server", e.getMessage());
        }
        diagnosticsVisibleEnv = Check.strings("server.diagnostics_visible_env", diagnosticsVisibleEnv);
    }

    static ServerSection defaults() {
        return new ServerSection("0.0.0.0", 8080, Duration.ofSeconds(30), OptionalInt.of(1024), 2048, 200,
                "auto", "auto", Optional.empty(), Optional.empty(), Optional.empty(), List.of("*"),
                Duration.ofSeconds(10), false, false, DEFAULT_MAX_REQUEST_BODY_BYTES,
                Map.of(), Map.of(), Secrets.DEFAULT_VISIBLE_ENV);
    }

    /** True when a non-blank API key is configured, so requests must carry it. */
    public boolean authenticationEnabled() {
        return apiKey.isPresent();
    }

    /** True for the upstream-compatible CORS policy: reflect any origin, with credentials. */
    public boolean corsAllowsAnyOrigin() {
        return corsAllowedOrigins.contains("*");
    }

    /** A copy with another API key; blank or empty means no key. */
    public ServerSection withApiKey(Optional<String> key) {
        return new ServerSection(host, port, keepAliveTimeout, limitConcurrency, backlog, threadPoolSize, loop, http,
                key, eip, maxSandboxTimeout, corsAllowedOrigins, sweepInterval, proxyRequiresApiKey,
                requireSecureAccess, maxRequestBodyBytes, defaultResourceLimits, maxResourceLimits,
                diagnosticsVisibleEnv);
    }
}
