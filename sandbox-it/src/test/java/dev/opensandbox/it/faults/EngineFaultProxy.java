package dev.opensandbox.it.faults;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Unix socket in front of the real Docker engine that the server under test uses as its
 * {@code DOCKER_HOST}, and that a test switches between faults while the server runs:
 * <ul>
 *   <li>{@link Mode#PASS}: relays both ways;</li>
 *   <li>{@link Mode#GONE}: the socket file is removed and every connection closed, as when the
 *       engine is not running;</li>
 *   <li>{@link Mode#HUNG}: connections are accepted, requests read and nothing answered, as
 *       with a stopped ({@code SIGSTOP}) engine; connections that saw the hang are closed when
 *       it ends, so no request held during it reaches the engine late;</li>
 *   <li>{@link Mode#SLOW}: every chunk, both ways, is delayed;</li>
 *   <li>{@link #dropAnswerTo}: once, the answer to the request containing a given text is cut
 *       after some bytes (the engine did the work, the client never hears it), then the proxy
 *       switches to a given mode.</li>
 * </ul>
 * Only the engine's socket and loopback clients are involved; nothing here touches dockerd.
 */
final class EngineFaultProxy implements AutoCloseable {

    enum Mode { PASS, GONE, HUNG, SLOW }

    private record Drop(String trigger, int answerBytes, Mode then) {
    }

    private final Path socket;
    private final Path engine;
    private final Set<Relay> relays = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile Mode mode = Mode.PASS;
    private volatile Duration delay = Duration.ZERO;
    private volatile Drop drop;
    private volatile ServerSocketChannel server;
    private volatile boolean closed;

    EngineFaultProxy(Path directory, Path engine) throws IOException {
        this.socket = directory.resolve("engine-proxy.sock");
        this.engine = engine;
        listen();
    }

    /** The {@code DOCKER_HOST} that reaches the engine through this proxy. */
    String dockerHost() {
        return "unix://" + socket;
    }

    /** Client connections accepted so far. */
    int connectionsAccepted() {
        return connections.get();
    }

    synchronized void pass() throws IOException {
        Mode before = mode;
        mode = Mode.PASS;
        if (before == Mode.HUNG) {
            closeRelays();
        }
        listen();
    }

    synchronized void gone() throws IOException {
        mode = Mode.GONE;
        ServerSocketChannel listening = server;
        server = null;
        if (listening != null) {
            listening.close();
        }
        Files.deleteIfExists(socket);
        closeRelays();
    }

    synchronized void hang() {
        mode = Mode.HUNG;
    }

    synchronized void slow(Duration perChunk) {
        delay = perChunk;
        mode = Mode.SLOW;
    }

    /** Closes every open connection at once, as an engine restart does; keeps listening. */
    synchronized void restart() {
        closeRelays();
    }

    /**
     * Once: the answer to the next request whose bytes contain {@code trigger} is cut after
     * {@code answerBytes} bytes, then the proxy behaves as {@code then}.
     */
    void dropAnswerTo(String trigger, int answerBytes, Mode then) {
        drop = new Drop(trigger, answerBytes, then);
    }

    private void listen() throws IOException {
        if (server != null || closed) {
            return;
        }
        Files.deleteIfExists(socket);
        ServerSocketChannel listening = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listening.bind(UnixDomainSocketAddress.of(socket));
        server = listening;
        daemon("engine-proxy-accept", () -> accept(listening));
    }

    private void accept(ServerSocketChannel listening) {
        while (listening.isOpen()) {
            SocketChannel client;
            try {
                client = listening.accept();
            } catch (IOException e) {
                return;
            }
            connections.incrementAndGet();
            try {
                SocketChannel upstream = SocketChannel.open(UnixDomainSocketAddress.of(engine));
                Relay relay = new Relay(client, upstream);
                relays.add(relay);
                daemon("engine-proxy-request", relay::requests);
                daemon("engine-proxy-answer", relay::answers);
            } catch (IOException e) {
                closeQuietly(client);
            }
        }
    }

    private void closeRelays() {
        for (Relay relay : relays) {
            relay.close();
        }
    }

    /** One client connection and its own connection to the engine. */
    private final class Relay {
        private final SocketChannel client;
        private final SocketChannel upstream;
        private volatile boolean sawHang;
        private volatile Drop cutAnswer;

        Relay(SocketChannel client, SocketChannel upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void requests() {
            relay(client, upstream, true);
        }

        void answers() {
            relay(upstream, client, false);
        }

        private void relay(SocketChannel from, SocketChannel to, boolean request) {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            try {
                while (true) {
                    buffer.clear();
                    if (from.read(buffer) < 0) {
                        return;
                    }
                    buffer.flip();
                    if (!request && cutAnswer != null) {
                        cut(buffer, to);
                        return;
                    }
                    if (!holdWhileHung()) {
                        return;
                    }
                    if (mode == Mode.SLOW) {
                        Thread.sleep(delay.toMillis());
                    }
                    if (request) {
                        armDrop(buffer);
                    }
                    while (buffer.hasRemaining()) {
                        to.write(buffer);
                    }
                }
            } catch (IOException | InterruptedException e) {
                // either side closed
            } finally {
                close();
            }
        }

        private void armDrop(ByteBuffer request) {
            Drop armed = drop;
            if (armed != null && StandardCharsets.ISO_8859_1.decode(request.duplicate()).toString().contains(armed.trigger())) {
                drop = null;
                cutAnswer = armed;
            }
        }

        private void cut(ByteBuffer answer, SocketChannel to) throws IOException {
            Drop armed = cutAnswer;
            answer.limit(Math.min(answer.limit(), armed.answerBytes()));
            while (answer.hasRemaining()) {
                to.write(answer);
            }
            switch (armed.then()) {
                case GONE -> gone();
                case HUNG -> hang();
                case PASS, SLOW -> {
                }
            }
        }

        /** False when the connection must end: it was held through a hang that is now over. */
        private boolean holdWhileHung() throws InterruptedException {
            while (mode == Mode.HUNG) {
                sawHang = true;
                Thread.sleep(20);
            }
            return !sawHang && client.isOpen() && upstream.isOpen();
        }

        void close() {
            relays.remove(this);
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    private static void daemon(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // already closed
        }
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        mode = Mode.PASS;
        gone();
    }
}
