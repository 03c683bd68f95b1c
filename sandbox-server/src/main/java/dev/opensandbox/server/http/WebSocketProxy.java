package dev.opensandbox.server.http;

import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.SandboxException;
import io.javalin.http.Context;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsContext;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The WebSocket half of the reverse proxy. Before Jetty upgrades the client, the proxy resolves
 * the sandbox and opens the backend WebSocket ({@code ws://{INTERNAL endpoint}/{path}?{query}})
 * offering the client's subprotocols, so that the client is accepted with the subprotocol the
 * backend chose. Then text and binary messages are relayed both ways, one message at a time in
 * each direction (a slow side slows the other instead of filling memory), and close codes and
 * reasons are forwarded both ways.
 *
 * <p>Missing or wrong credentials (API key when required, secure-access token) refuse the upgrade
 * with a JSON 401. Any other failure accepts the client and closes it at once: 1008 when the
 * backend refused the handshake, 1011 with a short {@code code: message} reason otherwise (unknown
 * or paused sandbox, nothing listening), as upstream does.
 */
final class WebSocketProxy {

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketProxy.class);
    static final String RELAY_ATTRIBUTE = "opensandbox.proxy.ws.relay";
    /** Messages are relayed whole; Jetty's default limit (64 KiB) would close larger ones with 1009. */
    static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
    static final int POLICY_VIOLATION = 1008;
    static final int INTERNAL_ERROR = 1011;

    private final ProxyTargets targets;
    private final HttpClient client;
    private final ScheduledExecutorService timers;
    private final Map<String, Relay> relays = new ConcurrentHashMap<>();
    private final int maxPending;
    private final Semaphore pending;
    private final Duration upgradeTimeout;
    /** Where upgrades are prepared; at most {@code maxPending} tasks at once (each holds a permit). */
    private final ExecutorService upgrades = ThreadPools.virtualOrCached("opensandbox-ws-upgrade-");

    /**
     * @param maxPending     upgrades prepared at once, at most
     * @param upgradeTimeout how long a Jetty thread waits for one
     */
    WebSocketProxy(ProxyTargets targets, HttpClient client, ScheduledExecutorService timers, int maxPending,
                   Duration upgradeTimeout) {
        this.targets = targets;
        this.client = client;
        this.timers = timers;
        this.maxPending = maxPending;
        this.pending = new Semaphore(maxPending);
        this.upgradeTimeout = upgradeTimeout;
    }

    /**
     * {@code wsBeforeUpgrade} for the proxy paths (after the request-id and API-key rules): checks
     * the secure-access token, resolves the target and connects the backend. That work runs on a
     * thread of its own, never on the Jetty thread, which waits for it at most the upgrade timeout
     * (then the client is closed with 1011 and a late backend is dropped). At most
     * {@code maxPending} upgrades are prepared at once, until their work ends, however long a
     * hung platform holds it; beyond that the upgrade is refused with a JSON 503
     * {@code PROXY::TOO_MANY_UPGRADES}, so a flood of upgrades cannot take the request threads
     * that {@code /health} and the API need.
     */
    void beforeUpgrade(Context ctx) {
        HttpServletRequest req = ctx.req();
        Relay relay = new Relay();
        ctx.attribute(RELAY_ATTRIBUTE, relay);
        ProxyTargets.Target target;
        try {
            target = targets.parse(req.getRequestURI(), req.getQueryString());
        } catch (RuntimeException e) {
            relay.fail(INTERNAL_ERROR, reason(e));
            return;
        }
        if (!pending.tryAcquire()) {
            throw new ErrorResponses.ApiRejection(503, "PROXY::TOO_MANY_UPGRADES", maxPending
                + " WebSocket upgrades are being prepared already (their sandboxes are slow to resolve); retry later.");
        }
        Handshake handshake = new Handshake(req.getHeader(ProxyTargets.SECURE_ACCESS_HEADER),
            ProxyHeaders.withRequestId(ProxyHeaders.of(req), ctx.attribute(Filters.MDC_REQUEST_ID)),
            req.getHeader("Origin"), offeredSubprotocols(req), ctx.attribute(Filters.MDC_REQUEST_ID));
        CompletableFuture<WebSocket> backend;
        try {
            backend = CompletableFuture.supplyAsync(() -> prepare(target, handshake), upgrades)
                .thenCompose(prepared -> prepared.builder().buildAsync(prepared.uri(), relay));
        } catch (RejectedExecutionException e) {
            pending.release();
            throw new ErrorResponses.ApiRejection(503, "PROXY::INTERRUPTED", "The server is shutting down.");
        }
        backend.whenComplete((ws, error) -> pending.release());
        WebSocket connected;
        try {
            connected = backend.get(upgradeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            backend.thenAccept(WebSocket::abort); // nobody is left to relay to a backend that connects late
            LOG.info("proxy ws: {} port {} not ready within {}", target.id(), target.port(), upgradeTimeout);
            relay.fail(INTERNAL_ERROR, "PROXY::UPGRADE_TIMEOUT: sandbox " + target.id() + " port " + target.port()
                + " was not reachable within " + upgradeTimeout.toSeconds() + " s");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            relay.fail(INTERNAL_ERROR, "PROXY::INTERRUPTED");
            return;
        } catch (ExecutionException e) {
            failed(target, relay, e.getCause());
            return;
        }
        relay.backend = connected;
        String chosen = connected.getSubprotocol();
        // Javalin pre-selects the client's first offer; Jetty accepts what this header says.
        ctx.res().setHeader("Sec-WebSocket-Protocol", chosen == null || chosen.isEmpty() ? null : chosen);
        // If the client never completes the upgrade, do not keep the backend open.
        timers.schedule(() -> {
            if (relay.client == null) {
                connected.abort();
            }
        }, 30, TimeUnit.SECONDS);
    }

    /** What the upgrade takes from the client's request, read on the Jetty thread. */
    private record Handshake(String token, Map<String, List<String>> headers, String origin, List<String> offered,
                             String requestId) {
    }

    /** The backend's address and a builder with the client's headers and subprotocols. */
    private record Prepared(URI uri, WebSocket.Builder builder) {
    }

    /** Off the Jetty thread: the access check, the sandbox lookup (which may wait on the platform), the backend's headers. */
    private Prepared prepare(ProxyTargets.Target target, Handshake handshake) {
        if (handshake.requestId() != null) {
            MDC.put(Filters.MDC_REQUEST_ID, handshake.requestId());
        }
        try {
            targets.checkAccess(target.id(), handshake.token());
            Endpoint endpoint = targets.resolve(target);
            URI uri = ProxyTargets.backendUri("ws", endpoint, target);
            WebSocket.Builder builder = client.newWebSocketBuilder().connectTimeout(ReverseProxy.CONNECT_TIMEOUT);
            for (Map.Entry<String, String> header : ProxyHeaders.toBackend(handshake.headers(), endpoint.headers(),
                Map.of(), true)) {
                header(builder, header.getKey(), header.getValue());
            }
            if (handshake.origin() != null) {
                header(builder, "Origin", handshake.origin());
            }
            List<String> offered = handshake.offered();
            if (!offered.isEmpty()) {
                builder.subprotocols(offered.get(0), offered.subList(1, offered.size()).toArray(new String[0]));
            }
            return new Prepared(uri, builder);
        } finally {
            MDC.remove(Filters.MDC_REQUEST_ID);
        }
    }

    /** A failed preparation: credentials refuse the upgrade itself (JSON 401), anything else closes the client. */
    private void failed(ProxyTargets.Target target, Relay relay, Throwable cause) {
        if (cause instanceof ErrorResponses.ApiRejection rejection) {
            throw rejection;
        }
        if (cause instanceof SandboxException e) {
            relay.fail(INTERNAL_ERROR, reason(e));
        } else if (cause instanceof WebSocketHandshakeException handshake) {
            LOG.info("proxy ws: {} port {} refused the handshake with HTTP {}", target.id(), target.port(),
                handshake.getResponse().statusCode());
            relay.fail(POLICY_VIOLATION, "");
        } else if (cause instanceof HttpTimeoutException) {
            relay.fail(INTERNAL_ERROR, "PROXY::BACKEND_TIMEOUT: no WebSocket handshake from port " + target.port());
        } else if (ReverseProxy.isUnreachable(cause)) {
            relay.fail(INTERNAL_ERROR, "PROXY::BACKEND_UNREACHABLE: nothing accepts connections on port "
                + target.port());
        } else if (cause instanceof java.io.IOException) {
            LOG.info("proxy ws: {} port {} failed: {}", target.id(), target.port(), ReverseProxy.describe(cause));
            relay.fail(INTERNAL_ERROR, "PROXY::BACKEND_ERROR: " + ReverseProxy.describe(cause));
        } else {
            LOG.warn("proxy ws: {} port {} failed unexpectedly", target.id(), target.port(), cause);
            relay.fail(INTERNAL_ERROR, "GENERAL::UNKNOWN_ERROR");
        }
    }

    void close() {
        upgrades.shutdownNow();
    }

    /** The client side: Javalin's handlers for one proxy path. */
    void configure(WsConfig ws) {
        ws.onConnect(ctx -> {
            Relay relay = ctx.attribute(RELAY_ATTRIBUTE);
            if (relay == null) {
                ctx.closeSession(INTERNAL_ERROR, "no backend");
                return;
            }
            relays.put(ctx.sessionId(), relay);
            relay.clientConnected(ctx);
        });
        ws.onMessage(ctx -> {
            Relay relay = relays.get(ctx.sessionId());
            if (relay != null) {
                relay.toBackend(ctx, ctx.message());
            }
        });
        ws.onBinaryMessage(ctx -> {
            Relay relay = relays.get(ctx.sessionId());
            if (relay != null) {
                relay.toBackend(ctx, ByteBuffer.wrap(ctx.data(), ctx.offset(), ctx.length()));
            }
        });
        ws.onClose(ctx -> {
            Relay relay = relays.remove(ctx.sessionId());
            if (relay != null) {
                relay.clientClosed(ctx.status(), ctx.reason());
            }
        });
        ws.onError(ctx -> {
            Relay relay = relays.remove(ctx.sessionId());
            if (relay != null) {
                relay.clientFailed(ctx.error());
            }
        });
    }

    /** Open relays, for tests. */
    int openRelays() {
        return relays.size();
    }

    private static void header(WebSocket.Builder builder, String name, String value) {
        try {
            builder.header(name, value);
        } catch (IllegalArgumentException restricted) {
            LOG.debug("proxy ws: header {} not forwarded: {}", name, restricted.getMessage());
        }
    }

    static List<String> offeredSubprotocols(HttpServletRequest req) {
        List<String> offered = new ArrayList<>();
        Enumeration<String> values = req.getHeaders("Sec-WebSocket-Protocol");
        while (values != null && values.hasMoreElements()) {
            for (String token : values.nextElement().split(",")) {
                String protocol = token.trim();
                if (!protocol.isEmpty() && !offered.contains(protocol)) {
                    offered.add(protocol);
                }
            }
        }
        return offered;
    }

    private static String reason(RuntimeException e) {
        if (e instanceof SandboxException sandbox) {
            return sandbox.code() + ": " + sandbox.getMessage();
        }
        if (e instanceof ErrorResponses.ApiRejection rejection) {
            return rejection.code + ": " + rejection.getMessage();
        }
        return "GENERAL::UNKNOWN_ERROR";
    }

    /** A close reason fits in a control frame: at most 123 bytes of UTF-8. */
    static String truncateReason(String reason) {
        if (reason == null) {
            return "";
        }
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= 123) {
            return reason;
        }
        int end = 123;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
            end--; // do not cut a character in half
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }

    /** Codes the client side may send or receive: the "no status" and "abnormal" pseudo-codes are not sendable. */
    static int toClientCode(int backendCode) {
        return switch (backendCode) {
            case 1005 -> 1000;
            case 1006, 1015 -> INTERNAL_ERROR;
            default -> backendCode;
        };
    }

    /** One client ↔ backend pair; also the backend listener. */
    final class Relay implements WebSocket.Listener {

        volatile WebSocket backend;
        volatile WsContext client;
        private volatile int failureCode;
        private volatile String failureReason;
        private final AtomicBoolean clientClosed = new AtomicBoolean();
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        void fail(int code, String reason) {
            failureCode = code;
            failureReason = truncateReason(reason);
        }

        void clientConnected(WsContext ctx) {
            client = ctx;
            if (failureCode != 0 || backend == null) {
                closeClient(failureCode == 0 ? INTERNAL_ERROR : failureCode, failureReason == null ? "" : failureReason);
                return;
            }
            backend.request(1); // start reading the backend only now that there is somewhere to send to
        }

        void toBackend(WsContext ctx, String message) {
            WebSocket ws = backend;
            if (ws == null || ws.isOutputClosed()) {
                return;
            }
            try {
                ws.sendText(message, true).join(); // one at a time: a slow backend slows the client down
            } catch (RuntimeException e) {
                LOG.debug("proxy ws: send to backend failed: {}", e.toString());
                closeClient(INTERNAL_ERROR, "backend connection failed");
                ws.abort();
            }
        }

        void toBackend(WsContext ctx, ByteBuffer message) {
            WebSocket ws = backend;
            if (ws == null || ws.isOutputClosed()) {
                return;
            }
            try {
                ws.sendBinary(message, true).join();
            } catch (RuntimeException e) {
                LOG.debug("proxy ws: send to backend failed: {}", e.toString());
                closeClient(INTERNAL_ERROR, "backend connection failed");
                ws.abort();
            }
        }

        void clientClosed(int code, String reason) {
            clientClosed.set(true);
            WebSocket ws = backend;
            if (ws == null || ws.isOutputClosed()) {
                return;
            }
            String why = truncateReason(reason);
            try {
                ws.sendClose(code, why);
            } catch (IllegalArgumentException notSendable) {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, why); // 1005/1006 and friends cannot be sent by a client
            }
            timers.schedule(() -> {
                if (!ws.isInputClosed()) {
                    ws.abort(); // the backend did not answer the close
                }
            }, 10, TimeUnit.SECONDS);
        }

        void clientFailed(Throwable error) {
            clientClosed.set(true);
            LOG.debug("proxy ws: client failed: {}", error == null ? "?" : error.toString());
            WebSocket ws = backend;
            if (ws != null) {
                ws.abort();
            }
        }

        private void closeClient(int code, String reason) {
            WsContext ctx = client;
            if (ctx == null || !clientClosed.compareAndSet(false, true)) {
                return;
            }
            try {
                ctx.closeSession(code, truncateReason(reason));
            } catch (RuntimeException e) {
                try {
                    ctx.closeSession(1000, truncateReason(reason));
                } catch (RuntimeException ignored) {
                    // already gone
                }
            }
        }

        // ------------------------------------------------ backend → client

        @Override
        public void onOpen(WebSocket webSocket) {
            // No request(1) yet: messages are pulled once the client side is connected.
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                String message = text.toString();
                text.setLength(0);
                try {
                    client.send(message);
                } catch (RuntimeException e) {
                    webSocket.abort();
                    return null;
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            binary.write(chunk, 0, chunk.length);
            if (last) {
                ByteBuffer message = ByteBuffer.wrap(binary.toByteArray());
                binary.reset();
                try {
                    client.send(message);
                } catch (RuntimeException e) {
                    webSocket.abort();
                    return null;
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            fail(toClientCode(statusCode), reason); // in case the client side is not connected yet
            closeClient(toClientCode(statusCode), reason);
            return null; // the JDK answers the backend's close
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            LOG.debug("proxy ws: backend failed: {}", error.toString());
            fail(INTERNAL_ERROR, "backend connection failed");
            closeClient(INTERNAL_ERROR, "backend connection failed");
        }
    }
}
