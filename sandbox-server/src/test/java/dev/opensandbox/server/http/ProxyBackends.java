package dev.opensandbox.server.http;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.javalin.Javalin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPOutputStream;

/**
 * The sandbox side of the proxy tests, on 127.0.0.1: an HTTP backend (the JDK's HttpServer) with
 * echo, cookies, gzip, SSE, upload, download and slow routes, and a WebSocket backend (a second
 * Javalin) that echoes, picks the client's <em>second</em> subprotocol and records closes.
 */
final class ProxyBackends implements AutoCloseable {

    /** What the HTTP backend saw last. */
    record Seen(String method, String rawPath, String rawQuery, Map<String, List<String>> headers, byte[] body) {
        String header(String name) {
            List<String> values = headers.get(name);
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        List<String> headerValues(String name) {
            return headers.getOrDefault(name, List.of());
        }
    }

    static final byte[] GZIPPED = gzip("hello, compressed world ".repeat(50));
    static final int SSE_EVENTS = 7;
    static final long SSE_INTERVAL_MS = 500;

    final HttpServer http;
    final Javalin ws;
    final int deadPort;
    private final ExecutorService httpThreads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-backend");
        t.setDaemon(true);
        return t;
    });

    final AtomicReference<Seen> seen = new AtomicReference<>();
    /** Counted down when the upload backend has read its first megabyte. */
    volatile CountDownLatch firstMegabyte = new CountDownLatch(1);
    final AtomicLong uploadedBytes = new AtomicLong();
    final AtomicReference<Map<String, List<String>>> wsHandshake = new AtomicReference<>();
    final List<String> wsCloses = new CopyOnWriteArrayList<>();
    volatile CountDownLatch wsClosed = new CountDownLatch(1);

    ProxyBackends() throws IOException {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        http.setExecutor(httpThreads);
        http.createContext("/", this::echo);
        http.createContext("/gzip", exchange -> {
            drain(exchange);
            exchange.getResponseHeaders().add("Content-Encoding", "gzip");
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, GZIPPED.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(GZIPPED);
            }
        });
        http.createContext("/sse", exchange -> {
            drain(exchange);
            exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
            exchange.getResponseHeaders().add("Cache-Control", "no-cache");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < SSE_EVENTS; i++) {
                    if (i > 0) {
                        sleep(SSE_INTERVAL_MS);
                    }
                    out.write(("id: " + i + "\ndata: event " + i + "\n\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
        });
        http.createContext("/upload", exchange -> {
            long total = 0;
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = exchange.getRequestBody()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    total += n;
                    if (total >= 1024 * 1024) {
                        firstMegabyte.countDown();
                    }
                }
            }
            uploadedBytes.set(total);
            byte[] answer = Long.toString(total).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        });
        http.createContext("/download", exchange -> {
            drain(exchange);
            long megabytes = Long.parseLong(exchange.getRequestURI().getQuery().replace("mb=", ""));
            long length = megabytes * 1024 * 1024;
            exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
            exchange.sendResponseHeaders(200, length);
            byte[] block = pattern(64 * 1024);
            try (OutputStream out = exchange.getResponseBody()) {
                for (long sent = 0; sent < length; sent += block.length) {
                    out.write(block, 0, (int) Math.min(block.length, length - sent));
                }
            } catch (IOException clientGone) {
                // the test may stop reading early
            }
        });
        http.createContext("/slow", exchange -> {
            drain(exchange);
            String query = exchange.getRequestURI().getQuery();
            sleep(query != null && query.startsWith("ms=") ? Long.parseLong(query.substring(3)) : 6000);
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        http.start();

        ws = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.jetty.modifyWebSocketServletFactory(factory -> factory.setMaxTextMessageSize(1 << 20));
        });
        ws.wsBeforeUpgrade(ctx -> {
            Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            ctx.headerMap().keySet().forEach(name -> headers.put(name, List.copyOf(ctx.req().getHeaders(name) == null
                ? List.of() : java.util.Collections.list(ctx.req().getHeaders(name)))));
            headers.put(":uri", List.of(ctx.req().getRequestURI() + "?" + ctx.req().getQueryString()));
            wsHandshake.set(headers);
            // Choose the client's second offer: proves the proxy relays the backend's choice, not Javalin's default.
            List<String> offered = WebSocketProxy.offeredSubprotocols(ctx.req());
            if (offered.size() > 1) {
                ctx.res().setHeader("Sec-WebSocket-Protocol", offered.get(1));
            }
        });
        ws.ws("/<path>", config -> {
            config.onMessage(ctx -> {
                if (ctx.message().equals("close-me")) {
                    ctx.closeSession(4001, "bye from backend");
                } else {
                    ctx.send("echo:" + ctx.message());
                }
            });
            config.onBinaryMessage(ctx -> {
                byte[] copy = java.util.Arrays.copyOfRange(ctx.data(), ctx.offset(), ctx.offset() + ctx.length());
                ctx.send(java.nio.ByteBuffer.wrap(copy));
            });
            config.onClose(ctx -> {
                wsCloses.add(ctx.status() + " " + ctx.reason());
                wsClosed.countDown();
            });
        });
        ws.start("127.0.0.1", 0);

        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = probe.getLocalPort(); // closed again: nobody listens there
        }
    }

    int httpPort() {
        return http.getAddress().getPort();
    }

    int wsPort() {
        return ws.port();
    }

    private void echo(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        exchange.getRequestHeaders().forEach((name, values) -> headers.put(name, List.copyOf(values)));
        seen.set(new Seen(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
            exchange.getRequestURI().getRawQuery(), headers, body));
        Headers response = exchange.getResponseHeaders();
        response.add("Content-Type", "text/plain; charset=utf-8");
        response.add("Set-Cookie", "a=1; Path=/");
        response.add("Set-Cookie", "b=2; Path=/; HttpOnly");
        response.add("X-Backend", "echo");
        response.add("X-Request-ID", "backend-chosen-id");
        response.add("Keep-Alive", "timeout=5");
        response.add("Proxy-Authenticate", "Basic");
        byte[] answer = ("method=" + exchange.getRequestMethod() + " bytes=" + body.length).getBytes(StandardCharsets.UTF_8);
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(200, -1);
        } else {
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
        }
        exchange.close();
    }

    private static void drain(HttpExchange exchange) throws IOException {
        exchange.getRequestBody().readAllBytes();
    }

    static byte[] pattern(int size) {
        byte[] block = new byte[size];
        for (int i = 0; i < size; i++) {
            block[i] = (byte) (i * 31 + 7);
        }
        return block;
    }

    private static byte[] gzip(String text) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
                out.write(text.getBytes(StandardCharsets.UTF_8));
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        http.stop(0);
        ws.stop();
        httpThreads.shutdownNow();
    }
}
