package dev.opensandbox.runtime.k8s;

import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;

import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Upstream's client-side rate limits ({@code [kubernetes] read_qps}, {@code read_burst},
 * {@code write_qps}, {@code write_burst}) as a fabric8 interceptor: every API request waits for a
 * token of its bucket first — reads (GET) from one, writes (POST, PUT, PATCH, DELETE) from the
 * other; watches are long-lived and never throttled. A qps of 0 (the default) is unlimited.
 */
final class ApiRateLimits implements Interceptor {

    static final String NAME = "opensandbox-rate-limits";

    private final TokenBucket reads;
    private final TokenBucket writes;

    ApiRateLimits(TokenBucket reads, TokenBucket writes) {
        this.reads = reads;
        this.writes = writes;
    }

    /** From the {@code [kubernetes]} table; null when both qps are 0 (nothing to limit). */
    static ApiRateLimits from(Map<String, Object> kubernetes) {
        TokenBucket reads = TokenBucket.of(number(kubernetes, "read_qps"), (int) number(kubernetes, "read_burst"));
        TokenBucket writes = TokenBucket.of(number(kubernetes, "write_qps"), (int) number(kubernetes, "write_burst"));
        return reads == null && writes == null ? null : new ApiRateLimits(reads, writes);
    }

    private static double number(Map<String, Object> section, String key) {
        Object value = section.get(key);
        if (value == null) {
            return 0;
        }
        if (!(value instanceof Number number) || number.doubleValue() < 0) {
            throw KubernetesRuntimeConfig.invalid("kubernetes." + key + " must be a number >= 0 (0 = unlimited).");
        }
        return number.doubleValue();
    }

    @Override
    public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
        String query = request.uri().getRawQuery();
        if (query != null && query.contains("watch=true")) {
            return;
        }
        TokenBucket bucket = "GET".equalsIgnoreCase(request.method()) ? reads : writes;
        if (bucket != null) {
            bucket.acquire();
        }
    }

    /**
     * A token bucket that starts full, refills at {@code qps} per second up to {@code burst}
     * (0 means qps, at least 1), and blocks in {@link #acquire} until a token is there.
     */
    static final class TokenBucket {
        private final double qps;
        private final double burst;
        private final LongSupplier nanoTime;
        private final Sleeper sleeper;
        private double tokens;
        private long refilledAt;

        @FunctionalInterface
        interface Sleeper {
            void sleepNanos(long nanos) throws InterruptedException;
        }

        TokenBucket(double qps, int burst, LongSupplier nanoTime, Sleeper sleeper) {
            this.qps = qps;
            this.burst = Math.max(1, burst > 0 ? burst : qps);
            this.nanoTime = nanoTime;
            this.sleeper = sleeper;
            this.tokens = this.burst;
            this.refilledAt = nanoTime.getAsLong();
        }

        /** A bucket on the real clock, or null for qps 0 (unlimited). */
        static TokenBucket of(double qps, int burst) {
            return qps <= 0 ? null : new TokenBucket(qps, burst, System::nanoTime,
                nanos -> Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)));
        }

        synchronized void acquire() {
            while (true) {
                long now = nanoTime.getAsLong();
                tokens = Math.min(burst, tokens + (now - refilledAt) / 1e9 * qps);
                refilledAt = now;
                if (tokens >= 1) {
                    tokens -= 1;
                    return;
                }
                long wait = (long) Math.ceil((1 - tokens) / qps * 1e9);
                try {
                    sleeper.sleepNanos(Math.max(wait, 1));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted waiting for the Kubernetes API rate limit", e);
                }
            }
        }
    }
}
