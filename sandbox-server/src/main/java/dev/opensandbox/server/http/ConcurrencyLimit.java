package dev.opensandbox.server.http;

import dev.opensandbox.core.UnavailableException;
import io.javalin.http.Context;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code [server] limit_concurrency}: above this many requests in flight the server answers 503
 * at once (as JSON, where upstream's server wrote plain text) instead of queueing without bound.
 */
final class ConcurrencyLimit {

    private static final String COUNTED = "opensandbox.counted";

    private final int limit;
    private final AtomicInteger inFlight = new AtomicInteger();

    /** @param limit maximum requests in flight; 0 means unlimited */
    ConcurrencyLimit(int limit) {
        this.limit = limit;
    }

    void enter(Context ctx) {
        if (limit == 0) {
            return;
        }
        if (inFlight.incrementAndGet() > limit) {
            inFlight.decrementAndGet();
            throw new UnavailableException("GENERAL::SERVER_BUSY",
                "The server is handling " + limit + " requests (server.limit_concurrency); retry later.");
        }
        ctx.attribute(COUNTED, Boolean.TRUE);
    }

    void leave(Context ctx) {
        if (Boolean.TRUE.equals(ctx.attribute(COUNTED))) {
            ctx.attribute(COUNTED, null);
            inFlight.decrementAndGet();
        }
    }
}
