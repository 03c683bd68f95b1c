package dev.opensandbox.server.http;

import dev.opensandbox.core.Endpoint;
import dev.opensandbox.server.execd.BuiltInExecd;
import io.javalin.http.Context;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The HTTP half of the reverse proxy {@code [/v1]/sandboxes/{id}/proxy/{port}[/{path}]}.
 *
 * <p>Each exchange runs on its own proxy thread (virtual on Java 21+, a cached pool of platform
 * threads on 17), never on a Jetty request thread, so long streams cannot starve the API. The
 * request body is streamed to the backend straight from the servlet input stream, the response
 * body is copied back with a flush after every read, so memory per exchange is one 16 KiB buffer
 * plus the HTTP client's own buffers whatever the body size, and SSE events arrive as they are
 * produced. Content-Encoding is relayed raw (the client's {@code Accept-Encoding} goes to the
 * backend and nothing is decompressed).
 *
 * <p>Errors before the response starts are {@code {code, message}} JSON: 502
 * {@code PROXY::BACKEND_UNREACHABLE} (connection refused, no route, unknown host), 504
 * {@code PROXY::BACKEND_TIMEOUT} (connect or response-header timeout), 502 {@code PROXY::BACKEND_ERROR}
 * (the backend broke the protocol or closed early), plus whatever resolution answers (404, 409,
 * 400, 401). After the response has started, a failure aborts the client connection so that a
 * truncated body is never mistaken for a complete one.
 */
final class ReverseProxy implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ReverseProxy.class);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final int BUFFER = 16 * 1024;

    private final ProxyTargets targets;
    private final HttpSettings settings;
    private final HttpClient client;
    private final ExecutorService exchanges;
    private final ScheduledExecutorService watchdog;
    /** Exchanges looking up their sandbox right now, at most {@code maxRequestThreads}. */
    private final Semaphore lookups;

    private final BuiltInExecd execd;

    ReverseProxy(ProxyTargets targets, HttpSettings settings, BuiltInExecd execd) {
        this.targets = targets;
        this.settings = settings;
        this.execd = execd;
        this.exchanges = ThreadPools.virtualOrCached("opensandbox-proxy-");
        this.lookups = new Semaphore(settings.maxRequestThreads());
        this.client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1) // plain http to sandboxes; never an h2c upgrade attempt
            .connectTimeout(CONNECT_TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
        this.watchdog = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "opensandbox-proxy-watchdog");
            thread.setDaemon(true);
            return thread;
        });
    }

    HttpClient client() {
        return client;
    }

    ScheduledExecutorService watchdog() {
        return watchdog;
    }

    /** The route handler: validates on the Jetty thread, then hands the exchange to a proxy thread. */
    void handle(Context ctx) {
        HttpServletRequest req = ctx.req();
        String upgrade = req.getHeader("Upgrade");
        if (upgrade != null && upgrade.toLowerCase(Locale.ROOT).contains("websocket")) {
            // Real WebSocket handshakes (with Sec-WebSocket-Key) never get here: Jetty routes them to the relay.
            throw new ErrorResponses.ApiRejection(400, "PROXY::INVALID_UPGRADE",
                "Websocket upgrade is not supported yet on a plain HTTP request: send a WebSocket handshake "
                    + "(with Sec-WebSocket-Key) to open a WebSocket through the proxy.");
        }
        ProxyTargets.Target target = targets.parse(req.getRequestURI(), req.getQueryString());
        String token = req.getHeader(ProxyTargets.SECURE_ACCESS_HEADER);
        String requestId = ctx.attribute(Filters.MDC_REQUEST_ID);
        Map<String, List<String>> inbound = ProxyHeaders.withRequestId(ProxyHeaders.of(req), requestId);
        Map<String, String> forwarded = new LinkedHashMap<>();
        forwarded.put("X-Forwarded-Proto", req.getScheme());
        forwarded.put("X-Forwarded-Host", req.getHeader("Host"));
        forwarded.put("X-Forwarded-For", req.getRemoteAddr());

        boolean builtIn = execd != null && target.port() == BuiltInExecd.PORT;
        // Each exchange has a thread of its own for as long as it streams; only the sandbox lookup is
        // capped, so that a hung platform cannot grow a thread per proxied request.
        if (!builtIn && !lookups.tryAcquire()) {
            throw new ErrorResponses.ApiRejection(503, "PROXY::TOO_MANY_PENDING", settings.maxRequestThreads()
                + " proxied requests are waiting for their sandbox already (the platform is slow to answer); retry later.");
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        ctx.future(() -> done);
        exchanges.execute(() -> {
            if (requestId != null) {
                MDC.put(Filters.MDC_REQUEST_ID, requestId);
            }
            try {
                if (builtIn) {
                    answerBuiltIn(ctx, target, token);
                } else {
                    exchange(ctx, target, token, inbound, forwarded);
                }
            } catch (Throwable error) {
                LOG.error("proxy exchange failed unexpectedly", error);
            } finally {
                MDC.remove(Filters.MDC_REQUEST_ID);
                done.complete(null);
            }
        });
        MDC.remove(Filters.MDC_REQUEST_ID);
    }

    /** Port 44772 of a sandbox without an injected daemon: the server answers the execd API itself. */
    private void answerBuiltIn(Context ctx, ProxyTargets.Target target, String token) {
        try {
            targets.checkAccess(target.id(), token);
            execd.handle(ctx, target.id(), target.path());
        } catch (RuntimeException e) {
            ErrorResponses.write(ctx, e);
        }
    }

    private void exchange(Context ctx, ProxyTargets.Target target, String token, Map<String, List<String>> inbound,
                          Map<String, String> forwarded) {
        HttpServletRequest req = ctx.req();
        URI uri;
        HttpResponse<InputStream> response;
        try {
            Endpoint endpoint;
            try {
                targets.checkAccess(target.id(), token);
                endpoint = targets.resolve(target);
            } finally {
                lookups.release();
            }
            uri = ProxyTargets.backendUri("http", endpoint, target);
            HttpRequest request = buildRequest(req, uri, ProxyHeaders.toBackend(inbound, endpoint.headers(), forwarded, false));
            response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ErrorResponses.write(ctx, 503, "PROXY::INTERRUPTED", "The server is shutting down.");
            return;
        } catch (IOException e) {
            writeBackendError(ctx, target, e);
            return;
        } catch (RuntimeException e) {
            ErrorResponses.write(ctx, e);
            return;
        }
        relay(ctx, target, response);
    }

    private HttpRequest buildRequest(HttpServletRequest req, URI uri, List<Map.Entry<String, String>> headers) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(settings.proxyResponseTimeout());
        for (Map.Entry<String, String> header : headers) {
            try {
                builder.header(header.getKey(), header.getValue());
            } catch (IllegalArgumentException restricted) {
                // The JDK client refuses a few names it manages itself; they are not needed upstream.
                LOG.debug("proxy: header {} not forwarded: {}", header.getKey(), restricted.getMessage());
            }
        }
        long length = req.getContentLengthLong();
        boolean chunked = req.getHeader("Transfer-Encoding") != null;
        HttpRequest.BodyPublisher body;
        if (length > 0) {
            body = HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> input(req)), length);
        } else if (chunked) {
            body = HttpRequest.BodyPublishers.ofInputStream(() -> input(req));
        } else {
            body = HttpRequest.BodyPublishers.noBody();
        }
        return builder.method(req.getMethod(), body).build();
    }

    private static InputStream input(HttpServletRequest req) {
        try {
            return req.getInputStream();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Status, headers (repeated ones kept separate), then the body with a flush after every read. */
    private void relay(Context ctx, ProxyTargets.Target target, HttpResponse<InputStream> response) {
        HttpServletResponse res = ctx.res();
        InputStream in = response.body();
        Set<String> serverOwned = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        serverOwned.addAll(res.getHeaderNames()); // X-Request-ID and CORS, set by the filters
        serverOwned.remove("Content-Type");
        serverOwned.remove("Vary");
        Set<String> connectionListed = ProxyHeaders.connectionListed(response.headers().allValues("connection"));

        res.setStatus(response.statusCode());
        // Javalin preset a default Content-Type and a character encoding: the backend's (or none) replaces them.
        res.setCharacterEncoding(null);
        res.setContentType(null);
        response.headers().map().forEach((name, values) -> {
            if (ProxyHeaders.droppedFromResponse(name, connectionListed) || serverOwned.contains(name)) {
                return;
            }
            if (name.equalsIgnoreCase("Content-Type")) {
                setContentTypeVerbatim(res, values.get(0));
                return;
            }
            for (String value : values) {
                res.addHeader(name, value);
            }
        });
        response.headers().firstValue("content-length").ifPresent(value -> {
            try {
                res.setContentLengthLong(Long.parseLong(value.trim()));
            } catch (NumberFormatException ignored) {
                // a broken length is not repeated; the body is sent chunked instead
            }
        });

        AtomicLong lastRead = new AtomicLong(System.nanoTime());
        long idleNanos = settings.proxyIdleTimeout().toNanos();
        long period = Math.max(1000, Math.min(settings.proxyIdleTimeout().toMillis() / 4, 60_000));
        ScheduledFuture<?> idleCheck = watchdog.scheduleAtFixedRate(() -> {
            if (System.nanoTime() - lastRead.get() > idleNanos) {
                LOG.info("proxy: {} port {} silent for {}, cutting the stream", target.id(), target.port(),
                    settings.proxyIdleTimeout());
                closeQuietly(in);
            }
        }, period, period, TimeUnit.MILLISECONDS);
        try {
            ServletOutputStream out;
            try {
                out = res.getOutputStream();
                out.flush(); // commit the status and headers now: stream clients see them before the first event
            } catch (IOException clientGone) {
                closeQuietly(in);
                return;
            }
            byte[] buffer = new byte[BUFFER];
            while (true) {
                int n;
                try {
                    n = in.read(buffer);
                } catch (IOException backendFailed) {
                    LOG.info("proxy: backend {} port {} failed mid-response: {}", target.id(), target.port(),
                        backendFailed.toString());
                    abort(ctx, backendFailed);
                    return;
                }
                if (n < 0) {
                    break;
                }
                lastRead.set(System.nanoTime());
                try {
                    out.write(buffer, 0, n);
                    out.flush();
                } catch (IOException clientGone) {
                    LOG.debug("proxy: client went away: {}", clientGone.toString());
                    closeQuietly(in);
                    return;
                }
            }
            closeQuietly(in);
        } finally {
            idleCheck.cancel(false);
        }
    }

    /** Jetty re-formats a Content-Type it parses ("; charset" → ";charset"): keep the backend's bytes. */
    private static void setContentTypeVerbatim(HttpServletResponse res, String value) {
        res.setContentType(value);
        if (res instanceof org.eclipse.jetty.server.Response jetty) {
            jetty.getHttpFields().put(org.eclipse.jetty.http.HttpHeader.CONTENT_TYPE, value);
        }
    }

    private void writeBackendError(Context ctx, ProxyTargets.Target target, IOException error) {
        String where = "port " + target.port() + " of sandbox " + target.id();
        if (error instanceof HttpConnectTimeoutException) {
            ErrorResponses.write(ctx, 504, "PROXY::BACKEND_TIMEOUT",
                "Could not connect to " + where + " within " + CONNECT_TIMEOUT.toSeconds() + " s.");
        } else if (error instanceof HttpTimeoutException) {
            ErrorResponses.write(ctx, 504, "PROXY::BACKEND_TIMEOUT",
                "No response from " + where + " within " + settings.proxyResponseTimeout().toSeconds() + " s.");
        } else if (isUnreachable(error)) {
            LOG.info("proxy: {} unreachable: {}", where, error.toString());
            ErrorResponses.write(ctx, 502, "PROXY::BACKEND_UNREACHABLE",
                "Could not connect to the backend sandbox at " + where + ": nothing accepts connections there ("
                    + describe(error) + ").");
        } else {
            LOG.info("proxy: {} failed: {}", where, error.toString());
            ErrorResponses.write(ctx, 502, "PROXY::BACKEND_ERROR",
                "The backend at " + where + " failed before answering: " + describe(error) + ".");
        }
    }

    static boolean isUnreachable(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof NoRouteToHostException
                || t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
                return true;
            }
        }
        return false;
    }

    static String describe(Throwable error) {
        List<String> parts = new ArrayList<>();
        for (Throwable t = error; t != null && parts.size() < 3; t = t.getCause()) {
            String message = t.getMessage();
            parts.add(t.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message));
        }
        return String.join(" / ", parts);
    }

    /** Cuts the client connection so that a truncated body cannot pass for a complete one. */
    private static void abort(Context ctx, Throwable cause) {
        try {
            org.eclipse.jetty.server.Request base = org.eclipse.jetty.server.Request.getBaseRequest(ctx.req());
            if (base != null) {
                base.getHttpChannel().abort(cause);
            }
        } catch (RuntimeException e) {
            LOG.debug("proxy: could not abort the client connection", e);
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException | RuntimeException ignored) {
            // already broken
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        exchanges.shutdownNow();
    }
}
