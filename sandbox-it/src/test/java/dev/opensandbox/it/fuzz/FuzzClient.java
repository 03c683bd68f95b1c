package dev.opensandbox.it.fuzz;

import dev.opensandbox.it.fuzz.FuzzRequest.Framing;
import dev.opensandbox.it.fuzz.FuzzRequest.Header;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * Sends {@link FuzzRequest}s to one server: with Java's {@link HttpClient} when it can express
 * the request, else over a raw socket (wrong lengths, broken chunking, restricted or
 * line-breaking headers, request targets {@link URI} refuses, other request lines). Every
 * exchange is bounded by a deadline; bodies are read up to 2 MiB, the endless metrics stream not at
 * all (its status and headers are the answer).
 */
final class FuzzClient implements AutoCloseable {

    static final int MAX_BODY = 2 * 1024 * 1024;

    /**
     * What came back.
     *
     * @param sent    the request as sent, tokens resolved
     * @param status  the status code, or -1 when no response arrived
     * @param headers response headers, names lower-cased
     * @param body    the (decoded) body, at most {@link #MAX_BODY} bytes
     * @param failure why no (complete) response arrived, or null
     * @param closedWithoutAnswer the server closed the connection without a response
     */
    record Exchange(FuzzRequest sent, int status, Map<String, List<String>> headers, byte[] body, long millis,
                    String failure, boolean closedWithoutAnswer) {

        String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            if (status < 0) {
                return "no response after " + millis + " ms: " + failure;
            }
            StringBuilder out = new StringBuilder().append(status).append(" after ").append(millis).append(" ms\n");
            headers.forEach((name, values) -> values.forEach(v -> out.append(name).append(": ")
                .append(FuzzRequest.printable(v, 300)).append('\n')));
            out.append('\n').append(FuzzRequest.printable(bodyText(), 1500));
            if (failure != null) {
                out.append("\n(then: ").append(failure).append(')');
            }
            return out.toString();
        }
    }

    private final String host;
    private final int port;
    private final Duration timeout;
    private final HttpClient http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
    private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "fuzz-client-deadline");
        thread.setDaemon(true);
        return thread;
    });

    /** Requests sent again on a connection of their own after a pooled one gave no answer (see {@link #send}). */
    final java.util.concurrent.atomic.AtomicInteger resentOnAFreshConnection = new java.util.concurrent.atomic.AtomicInteger();

    FuzzClient(int port, Duration timeout) {
        this.host = "127.0.0.1";
        this.port = port;
        this.timeout = timeout;
    }

    Exchange send(FuzzRequest request) {
        long start = System.nanoTime();
        HttpRequest built = request.raw() ? null : build(request);
        if (built == null) {
            return raw(request, start);
        }
        try {
            HttpResponse<InputStream> response = http.send(built, HttpResponse.BodyHandlers.ofInputStream());
            Map<String, List<String>> headers = new LinkedHashMap<>();
            response.headers().map().forEach((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), values));
            String[] failure = new String[1];
            byte[] body = readBody(response.body(), headers, request, start, failure);
            return new Exchange(request, response.statusCode(), headers, body, millis(start), failure[0], false);
        } catch (HttpTimeoutException e) {
            return new Exchange(request, -1, Map.of(), new byte[0], millis(start),
                "no response headers within " + timeout.toSeconds() + " s", false);
        } catch (IOException e) {
            // No answer on a connection the client's pool may have kept from an earlier request: HTTP/1.1's
            // keep-alive race when the server closes it, or the reset that follows an early close, not this
            // request's answer. Ask once more on a connection of its own; only that answer counts.
            resentOnAFreshConnection.incrementAndGet();
            return raw(request, start);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The request for the JDK client, or null when the client cannot send it exactly. */
    private HttpRequest build(FuzzRequest request) {
        if (request.framing() != Framing.LENGTH && request.framing() != Framing.CHUNKED) {
            return null;
        }
        try {
            URI uri = URI.create("http://" + host + ":" + port + request.target());
            // URI normalises nothing, but reject what it would re-encode or drop.
            if (!(uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()))
                .equals(request.target()) || uri.getRawFragment() != null) {
                return null;
            }
            HttpRequest.BodyPublisher publisher;
            if (request.framing() == Framing.CHUNKED) {
                // A publisher of unknown length makes the client send Transfer-Encoding: chunked.
                publisher = HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofByteArray(request.body()));
            } else {
                publisher = request.body().length == 0 ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(request.body());
            }
            HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(timeout).method(request.method(), publisher);
            for (Header header : request.headers()) {
                if (header.name().equalsIgnoreCase("Expect")) {
                    // The JDK client waits for a body that never comes after "Expect: 100-continue" without one.
                    return null;
                }
                builder.header(header.name(), header.value());
            }
            return builder.build();
        } catch (IllegalArgumentException restrictedOrInvalid) {
            return null;
        }
    }

    private byte[] readBody(InputStream in, Map<String, List<String>> headers, FuzzRequest request, long start,
                            String[] failure) {
        String type = first(headers, "content-type");
        try (InputStream body = in) {
            if (request.isHead() || endless(request, type)) {
                return new byte[0];
            }
            long left = Math.max(1, timeout.toMillis() - millis(start));
            ScheduledFuture<?> cut = deadlines.schedule(() -> closeQuietly(body), left, TimeUnit.MILLISECONDS);
            try {
                byte[] bytes = body.readNBytes(MAX_BODY);
                return decode(bytes, first(headers, "content-encoding"));
            } finally {
                cut.cancel(false);
            }
        } catch (IOException e) {
            failure[0] = "body not complete: " + e;
            return new byte[0];
        }
    }

    // ------------------------------------------------------------------ raw socket

    private Exchange raw(FuzzRequest request, long start) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 5000);
            socket.setSoTimeout((int) timeout.toMillis());
            OutputStream out = socket.getOutputStream();
            try {
                out.write(head(request));
                out.write(framedBody(request));
                out.flush();
                if (request.framing() == Framing.LENGTH_TOO_LONG || request.framing() == Framing.CHUNKS_UNTERMINATED) {
                    socket.shutdownOutput();
                }
            } catch (IOException writeRefused) {
                // The server may answer and close before the whole request is written (431, 413): read what it said.
            }
            return readResponse(request, new BufferedInputStream(socket.getInputStream()), start);
        } catch (SocketTimeoutException e) {
            return new Exchange(request, -1, Map.of(), new byte[0], millis(start),
                "no response within " + timeout.toSeconds() + " s", false);
        } catch (IOException e) {
            return new Exchange(request, -1, Map.of(), new byte[0], millis(start), e.toString(), closedEarly(e));
        }
    }

    private byte[] head(FuzzRequest request) {
        StringBuilder head = new StringBuilder();
        head.append(request.method()).append(' ').append(request.target());
        if (!request.version().isEmpty()) {
            head.append(' ').append(request.version());
        }
        head.append("\r\n");
        boolean hostGiven = false;
        boolean connectionGiven = false;
        for (Header header : request.headers()) {
            hostGiven |= header.name().equalsIgnoreCase("Host");
            connectionGiven |= header.name().equalsIgnoreCase("Connection");
            head.append(header.name()).append(": ").append(header.value()).append("\r\n");
        }
        if (!hostGiven) {
            head.append("Host: ").append(host).append(':').append(port).append("\r\n");
        }
        if (!connectionGiven) {
            head.append("Connection: close\r\n");
        }
        int length = request.body().length;
        switch (request.framing()) {
            case LENGTH -> {
                if (length > 0) {
                    head.append("Content-Length: ").append(length).append("\r\n");
                }
            }
            case LENGTH_TOO_LONG -> head.append("Content-Length: ").append(length + 100).append("\r\n");
            case LENGTH_TOO_SHORT -> head.append("Content-Length: ").append(length / 2).append("\r\n");
            case CHUNKED, CHUNK_SIZE_NOT_HEX, CHUNKS_UNTERMINATED -> head.append("Transfer-Encoding: chunked\r\n");
            case LENGTH_AND_CHUNKED -> head.append("Content-Length: ").append(length)
                .append("\r\nTransfer-Encoding: chunked\r\n");
            case TWO_LENGTHS -> head.append("Content-Length: ").append(length).append("\r\nContent-Length: ")
                .append(length + 7).append("\r\n");
        }
        head.append("\r\n");
        return head.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] framedBody(FuzzRequest request) {
        byte[] body = request.body();
        return switch (request.framing()) {
            case LENGTH, LENGTH_TOO_LONG, LENGTH_TOO_SHORT, TWO_LENGTHS -> body;
            case CHUNKED, LENGTH_AND_CHUNKED -> chunks(body, true);
            case CHUNKS_UNTERMINATED -> chunks(body, false);
            case CHUNK_SIZE_NOT_HEX -> concat(("zz\r\n").getBytes(StandardCharsets.US_ASCII), body,
                "\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        };
    }

    private static byte[] chunks(byte[] body, boolean terminated) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int at = 0; at < body.length; at += 1000) {
            int n = Math.min(1000, body.length - at);
            out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, at, n);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        if (terminated) {
            out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private Exchange readResponse(FuzzRequest request, InputStream in, long start) throws IOException {
        String statusLine = line(in);
        // Interim answers (100 Continue, 102, 103) come before the real one.
        while (statusLine != null && statusLine.matches("HTTP/\\S+ 1(00|02|03)( .*)?")) {
            for (String header = line(in); header != null && !header.isEmpty(); header = line(in)) {
                // skipped with its interim response
            }
            statusLine = line(in);
        }
        if (statusLine == null) {
            return new Exchange(request, -1, Map.of(), new byte[0], millis(start),
                "connection closed without a response", true);
        }
        String[] parts = statusLine.split(" ", 3);
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (RuntimeException e) {
            return new Exchange(request, -1, Map.of(), new byte[0], millis(start), "not an HTTP status line: "
                + FuzzRequest.printable(statusLine, 200), false);
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String header = line(in); header != null && !header.isEmpty(); header = line(in)) {
            int colon = header.indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(header.substring(colon + 1).trim());
            }
        }
        String type = first(headers, "content-type");
        boolean noBody = request.isHead() || status == 204 || status == 304 || (status >= 100 && status < 200)
            || endless(request, type);
        if (noBody) {
            return new Exchange(request, status, headers, new byte[0], millis(start), null, false);
        }
        String failure = null;
        byte[] body;
        try {
            String transfer = first(headers, "transfer-encoding");
            String length = first(headers, "content-length");
            if (transfer != null && transfer.toLowerCase(Locale.ROOT).contains("chunked")) {
                body = dechunk(in);
            } else if (length != null) {
                body = in.readNBytes((int) Math.min(MAX_BODY, Long.parseLong(length.trim())));
            } else {
                body = in.readNBytes(MAX_BODY);
            }
            body = decode(body, first(headers, "content-encoding"));
        } catch (IOException | NumberFormatException e) {
            failure = "body not complete: " + e;
            body = new byte[0];
        }
        return new Exchange(request, status, headers, body, millis(start), failure, false);
    }

    private static byte[] dechunk(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() < MAX_BODY) {
            String size = line(in);
            if (size == null) {
                throw new IOException("chunked body ended early");
            }
            int semicolon = size.indexOf(';');
            int n = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
            if (n == 0) {
                break;
            }
            out.write(in.readNBytes(n));
            line(in);
        }
        return out.toByteArray();
    }

    /** One line without its CRLF (or bare LF), read as ISO-8859-1; null at end of stream. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                break;
            }
            if (b != '\r') {
                out.write(b);
            }
            if (out.size() > 65_536) {
                throw new IOException("response line longer than 64 KiB");
            }
        }
        if (b < 0 && out.size() == 0) {
            return null;
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] decode(byte[] body, String encoding) throws IOException {
        if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("gzip") && body.length > 0) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
                return in.readNBytes(MAX_BODY);
            }
        }
        return body;
    }

    /** An event stream that does not end by itself (metrics watch): its status and headers are the whole answer. */
    private static boolean endless(FuzzRequest request, String contentType) {
        return contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("text/event-stream")
            && request.target().contains("metrics/watch");
    }

    private static String first(Map<String, List<String>> headers, String name) {
        List<String> values = headers.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    private static boolean closedEarly(IOException e) {
        String text = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return text.contains("closed") || text.contains("reset") || text.contains("eof") || text.contains("broken pipe");
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the read fails, which is what the deadline is for
        }
    }

    private static long millis(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Override
    public void close() {
        deadlines.shutdownNow();
    }
}
