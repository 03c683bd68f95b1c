package dev.opensandbox.server.http;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.UnsupportedCapabilityException;
import dev.opensandbox.core.service.SandboxService;
import io.javalin.http.Context;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The legacy plain-text diagnostics routes. With a {@code scope} parameter they answer 501, as
 * upstream (the JSON descriptor API of the spec is not implemented there either).
 */
final class Diagnostics {

    private static final Pattern SINCE = Pattern.compile("\\s*(\\d+)\\s*([smhd])\\s*", Pattern.CASE_INSENSITIVE);
    private static final Duration DEFAULT_SINCE = Duration.ofMinutes(10);

    private final SandboxService sandboxes;
    private final Clock clock;

    Diagnostics(SandboxService sandboxes, Clock clock) {
        this.sandboxes = sandboxes;
        this.clock = clock;
    }

    void logs(Context ctx, ApiServer api) {
        int tail = QueryParams.longParam(ctx, "tail", 1, 10_000, 100L).intValue();
        rejectScope(ctx);
        SandboxId id = api.sandboxId(ctx);
        Instant since = sinceInstant(parseSince(ctx.queryParam("since")), clock.instant());
        api.async(ctx, () -> logsText(id, tail, since), (c, text) -> text(c, text, true));
    }

    void events(Context ctx, ApiServer api) {
        int limit = QueryParams.longParam(ctx, "limit", 1, 500, 50L).intValue();
        rejectScope(ctx);
        SandboxId id = api.sandboxId(ctx);
        api.async(ctx, () -> eventsText(sandboxes.get(id), limit), (c, text) -> text(c, text, true));
    }

    void inspect(Context ctx, ApiServer api) {
        SandboxId id = api.sandboxId(ctx);
        api.async(ctx, () -> inspectText(sandboxes.get(id)), (c, text) -> text(c, text, false));
    }

    void summary(Context ctx, ApiServer api) {
        int tail = QueryParams.longParam(ctx, "tail", 1, 10_000, 50L).intValue();
        int eventLimit = QueryParams.longParam(ctx, "event_limit", 1, 500, 20L).intValue();
        SandboxId id = api.sandboxId(ctx);
        Instant since = clock.instant().minus(DEFAULT_SINCE);
        api.async(ctx, () -> {
            Sandbox sandbox = sandboxes.get(id);
            return "=== INSPECT ===\n" + section("inspect", () -> inspectText(sandbox))
                + "\n=== EVENTS ===\n" + section("events", () -> eventsText(sandbox, eventLimit))
                + "\n=== LOGS ===\n" + section("logs", () -> logsText(id, tail, since));
        }, (c, text) -> text(c, text, false));
    }

    private static void rejectScope(Context ctx) {
        if (ctx.queryParam("scope") != null) {
            throw new ErrorResponses.ApiRejection(501, "DIAGNOSTICS_NOT_IMPLEMENTED",
                "The stable Diagnostics API is not implemented by this OpenSandbox server.");
        }
    }

    private String logsText(SandboxId id, int tail, Instant since) {
        sandboxes.get(id);
        if (!sandboxes.runtime().capabilities().logs()) {
            throw new UnsupportedCapabilityException("DIAGNOSTICS_NOT_IMPLEMENTED",
                "The " + sandboxes.runtime().type() + " runtime does not provide sandbox logs.");
        }
        String logs = sandboxes.runtime().logs(id, tail, since);
        return logs == null || logs.isEmpty() ? "(no logs)\n" : logs;
    }

    /** The runtime's own events when it has them, else the sandbox's state transitions. */
    private String eventsText(Sandbox sandbox, int limit) {
        java.util.Optional<java.util.List<String>> recorded = sandboxes.runtime().events(sandbox.id(), limit);
        if (recorded.isPresent()) {
            return recorded.get().isEmpty() ? "(no notable events)\n" : String.join("\n", recorded.get()) + "\n";
        }
        var status = sandbox.status();
        StringBuilder out = new StringBuilder();
        out.append(Times.format(sandbox.createdAt())).append(" Created\n");
        if (limit > 1 && status.lastTransitionAt() != null) {
            out.append(Times.format(status.lastTransitionAt())).append(' ').append(status.state().wireName());
            if (status.reason() != null) {
                out.append(" (").append(status.reason()).append(')');
            }
            if (status.message() != null) {
                out.append(": ").append(status.message());
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** The runtime's description when it has one (secrets masked there), else the sandbox's fields. */
    private String inspectText(Sandbox sandbox) {
        java.util.Optional<String> described = sandboxes.runtime().describe(sandbox.id());
        if (described.isPresent()) {
            return described.get();
        }
        StringBuilder out = new StringBuilder();
        out.append("id: ").append(sandbox.id()).append('\n');
        if (sandbox.image() != null) {
            out.append("image: ").append(sandbox.image()).append('\n');
        }
        if (sandbox.snapshotId() != null) {
            out.append("snapshotId: ").append(sandbox.snapshotId()).append('\n');
        }
        out.append("state: ").append(sandbox.status().state().wireName()).append('\n');
        out.append("createdAt: ").append(Times.format(sandbox.createdAt())).append('\n');
        out.append("expiresAt: ").append(sandbox.expiresAt() == null ? "(manual cleanup)" : Times.format(sandbox.expiresAt()))
            .append('\n');
        out.append("entrypoint: ").append(sandbox.entrypoint()).append('\n');
        out.append("metadata:\n");
        Map<String, String> sorted = new TreeMap<>(sandbox.metadata());
        if (sorted.isEmpty()) {
            out.append("  (none)\n");
        }
        sorted.forEach((key, value) -> out.append("  ").append(key).append('=').append(value).append('\n'));
        return out.toString();
    }

    private static String section(String name, java.util.function.Supplier<String> body) {
        try {
            return body.get();
        } catch (NotFoundException e) {
            throw e;
        } catch (RuntimeException e) {
            return "[error] Failed to collect " + name + " diagnostics.\n";
        }
    }

    private static void text(Context ctx, String text, boolean deprecated) {
        if (deprecated) {
            ctx.header("Deprecation", "true");
        }
        ctx.contentType("text/plain; charset=utf-8").result(text);
    }

    /**
     * {@code since} as a duration: {@code 30s}, {@code 10m}, {@code 1h}, {@code 2d}; anything else
     * means 10 minutes, as upstream. An amount beyond what a duration holds is a 400.
     */
    static Duration parseSince(String since) {
        if (since == null) {
            return DEFAULT_SINCE;
        }
        Matcher m = SINCE.matcher(since);
        if (!m.matches()) {
            return DEFAULT_SINCE;
        }
        long unitSeconds = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "s" -> 1;
            case "m" -> 60;
            case "h" -> 3600;
            default -> 86_400;
        };
        try {
            return Duration.ofSeconds(Math.multiplyExact(Long.parseLong(m.group(1)), unitSeconds));
        } catch (NumberFormatException | ArithmeticException e) {
            throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER,
                "since " + since.strip() + " is too large: at most " + Long.MAX_VALUE / unitSeconds + m.group(2) + ".");
        }
    }

    /** {@code now - since}, but never before the epoch: a longer look back simply means every log line. */
    static Instant sinceInstant(Duration since, Instant now) {
        return since.getSeconds() >= now.getEpochSecond() ? Instant.EPOCH : now.minus(since);
    }
}
