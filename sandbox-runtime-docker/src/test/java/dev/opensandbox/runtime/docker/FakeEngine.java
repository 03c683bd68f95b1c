package dev.opensandbox.runtime.docker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Docker engine stand-in on a Unix socket in a temporary directory: it parses HTTP/1.1
 * requests and lets the test decide, per request, to answer, stream, hang or drop the
 * connection; it can also drop every open connection at once (an engine restart) or vanish.
 */
final class FakeEngine implements AutoCloseable {

    /** One request as the engine received it. */
    record Request(String method, String path, Map<String, String> headers, byte[] body) {
    }

    /** What the engine does with a request; it may write to, keep or close the connection. */
    interface Behaviour {
        void handle(Request request, Connection connection) throws IOException, InterruptedException;
    }

    /** The engine's side of one client connection. */
    static final class Connection {
        private final SocketChannel channel;
        private final OutputStream out;

        Connection(SocketChannel channel) {
            this.channel = channel;
            this.out = Channels.newOutputStream(channel);
        }

        void write(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        void answer(int status, String json) throws IOException {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            write("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                + "\r\n\r\n" + json);
        }

        /** The answer to {@code /_ping}. */
        void pong() throws IOException {
            write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
        }

        /** A raw stream's head, as the engine answers an exec attach: the body runs until the engine closes. */
        void streamHead() throws IOException {
            write("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
        }

        /** One frame of a multiplexed exec stream on stdout. */
        void stdoutFrame(String text) throws IOException {
            byte[] payload = text.getBytes(StandardCharsets.UTF_8);
            byte[] header = {1, 0, 0, 0, (byte) (payload.length >>> 24), (byte) (payload.length >>> 16),
                (byte) (payload.length >>> 8), (byte) payload.length};
            out.write(header);
            out.write(payload);
            out.flush();
        }

        void close() throws IOException {
            channel.close();
        }
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final List<SocketChannel> open = new CopyOnWriteArrayList<>();
    private final List<Request> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile Behaviour behaviour = (request, connection) -> connection.answer(200, "{}");

    /** On a Unix socket in {@code directory}. */
    FakeEngine(Path directory) throws IOException {
        this.socket = directory.resolve("engine.sock");
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        startAccepting();
    }

    /** On a TCP port of the loopback interface. */
    FakeEngine() throws IOException {
        this.socket = null;
        this.server = ServerSocketChannel.open();
        server.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
        startAccepting();
    }

    private void startAccepting() {
        Thread acceptor = new Thread(this::acceptLoop, "fake-engine-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The {@code DOCKER_HOST} of this engine. */
    String dockerHost() {
        if (socket != null) {
            return "unix://" + socket;
        }
        try {
            return "tcp://127.0.0.1:" + ((java.net.InetSocketAddress) server.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    void behave(Behaviour next) {
        this.behaviour = next;
    }

    /**
     * Answers {@code /_ping} with OK, volume lists with none (their shape is an object) and every other
     * request with {@code json}.
     */
    void answerAll(String json) {
        behave((request, connection) -> {
            if (request.path().endsWith("/_ping")) {
                connection.pong();
            } else if (request.path().contains("/volumes")) {
                connection.answer(200, "{\"Volumes\":[]}");
            } else {
                connection.answer(200, json);
            }
        });
    }

    /** Answers with a stream's head and then stays silent, holding the connection until {@link #close()}. */
    Behaviour heldStream() {
        return (request, connection) -> {
            connection.streamHead();
            release.await();
        };
    }

    /** Reads every request and never answers, until {@link #close()}. */
    void hang() {
        behave((request, connection) -> release.await());
    }

    /** Closes every open connection from the engine's side, as a restarting engine does; keeps listening. */
    void dropOpenConnections() throws IOException {
        for (SocketChannel channel : open) {
            channel.close();
        }
        open.clear();
    }

    /** Stops listening and removes the socket file: the engine is gone. */
    void vanish() throws IOException {
        server.close();
        if (socket != null) {
            Files.deleteIfExists(socket);
        }
        dropOpenConnections();
    }

    int connectionsAccepted() {
        return accepted.get();
    }

    List<Request> received() {
        return List.copyOf(received);
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel channel = server.accept();
                accepted.incrementAndGet();
                open.add(channel);
                Thread worker = new Thread(() -> serve(channel), "fake-engine-connection");
                worker.setDaemon(true);
                worker.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel channel) {
        Connection connection = new Connection(channel);
        try (InputStream in = Channels.newInputStream(channel)) {
            while (channel.isOpen()) {
                Request request = read(in);
                if (request == null) {
                    return;
                }
                received.add(request);
                behaviour.handle(request, connection);
            }
        } catch (IOException | InterruptedException e) {
            // the client or the test closed the connection
        } finally {
            open.remove(channel);
        }
    }

    private static Request read(InputStream in) throws IOException {
        String requestLine = line(in);
        if (requestLine == null || requestLine.isEmpty()) {
            return null;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String header = line(in); header != null && !header.isEmpty(); header = line(in)) {
            int colon = header.indexOf(':');
            headers.put(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), header.substring(colon + 1).trim());
        }
        byte[] body = new byte[0];
        if (headers.containsKey("content-length")) {
            body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream chunks = new ByteArrayOutputStream();
            for (int size = Integer.parseInt(line(in).trim(), 16); size > 0; size = Integer.parseInt(line(in).trim(), 16)) {
                chunks.write(in.readNBytes(size));
                line(in);
            }
            line(in);
            body = chunks.toByteArray();
        }
        String[] parts = requestLine.split(" ");
        return new Request(parts[0], parts[1], headers, body);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                String text = bytes.toString(StandardCharsets.UTF_8);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            bytes.write(b);
        }
        return bytes.size() == 0 ? null : bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        release.countDown();
        vanish();
    }
}
