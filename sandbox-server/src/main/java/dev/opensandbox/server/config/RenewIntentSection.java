package dev.opensandbox.server.config;

import java.time.Duration;
import java.util.Optional;

/**
 * {@code [renew_intent]} (experimental): renew-on-access.
 *
 * @param enabled master switch (default false)
 * @param minInterval per-sandbox cooldown between renewals ({@code min_interval_seconds}, ≥ 1, default 60)
 * @param redis the Redis consumer; written as dotted {@code redis.*} keys or as {@code [renew_intent.redis]}
 */
public record RenewIntentSection(boolean enabled, Duration minInterval, Redis redis) {

    public RenewIntentSection {
        Check.seconds("renew_intent.min_interval_seconds", minInterval, 1);
        Check.notNull("renew_intent.redis", redis);
    }

    static RenewIntentSection defaults() {
        return new RenewIntentSection(false, Duration.ofSeconds(60), Redis.defaults());
    }

    /**
     * Redis BRPOP consumer of renew intents.
     *
     * @param enabled start the consumer (default false)
     * @param dsn e.g. {@code redis://127.0.0.1:6379/0}; required when enabled (as upstream, even
     *     while the master switch is off)
     * @param queueKey Redis list key (default {@code opensandbox:renew:intent})
     * @param consumerConcurrency feeder and processor task count (≥ 1, default 8)
     */
    public record Redis(boolean enabled, Optional<String> dsn, String queueKey, int consumerConcurrency) {
        public Redis {
            Check.notNull("renew_intent.redis.dsn", dsn);
            if (enabled && dsn.filter(d -> !d.isBlank()).isEmpty()) {
                throw ConfigException.at("renew_intent.redis.dsn", "is required when renew_intent.redis.enabled = true");
            }
            Check.notBlank("renew_intent.redis.queue_key", queueKey);
            Check.atLeast("renew_intent.redis.consumer_concurrency", consumerConcurrency, 1);
        }

        static Redis defaults() {
            return new Redis(false, Optional.empty(), "opensandbox:renew:intent", 8);
        }
    }
}
