package dev.opensandbox.server.http;

import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.service.SandboxService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Renew-on-access ({@code [renew_intent] enabled}): every request or WebSocket the proxy lets
 * through for a sandbox asks the core to extend it, at most once per interval per sandbox, on a
 * thread of its own so the proxied traffic never waits for it (fire-and-forget, as upstream).
 */
final class AccessRenewals {

    private static final Logger LOG = LoggerFactory.getLogger(AccessRenewals.class);
    /** Above this many remembered sandboxes, entries older than the interval are dropped. */
    static final int TRIM_ABOVE = 10_000;

    private final SandboxService sandboxes;
    private final Duration interval;
    private final Executor executor;
    private final Clock clock;
    private final Map<SandboxId, Long> lastAttempt = new ConcurrentHashMap<>();

    AccessRenewals(SandboxService sandboxes, Duration interval, Executor executor, Clock clock) {
        this.sandboxes = sandboxes;
        this.interval = interval;
        this.executor = executor;
        this.clock = clock;
    }

    /** Called for each access; returns whether a renewal was started (false: throttled). */
    boolean accessed(SandboxId id) {
        long now = clock.millis();
        boolean[] due = {false};
        lastAttempt.compute(id, (key, last) -> {
            if (last != null && now - last < interval.toMillis()) {
                return last;
            }
            due[0] = true;
            return now;
        });
        if (!due[0]) {
            return false;
        }
        if (lastAttempt.size() > TRIM_ABOVE) {
            lastAttempt.entrySet().removeIf(entry -> now - entry.getValue() >= interval.toMillis());
        }
        try {
            executor.execute(() -> {
                try {
                    sandboxes.renewOnAccess(id);
                } catch (RuntimeException e) {
                    LOG.debug("renew-on-access of {} failed: {}", id, e.getMessage());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException busy) {
            lastAttempt.remove(id); // try again with the next access
            return false;
        }
        return true;
    }
}
