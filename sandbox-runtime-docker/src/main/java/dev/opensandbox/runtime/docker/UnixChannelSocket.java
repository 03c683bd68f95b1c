package dev.opensandbox.runtime.docker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Socket} on a Unix domain socket that honours {@link #setSoTimeout} for reads and
 * writes and a connect timeout, as a TCP socket does: the channel is non-blocking and every wait
 * is a bounded {@link Selector#select(long)}. docker-java's own Unix socket reads a blocking
 * channel that ignores SO_TIMEOUT, so a hung engine held every call until it resumed, and
 * httpclient5's stale-connection check (a 1 ms read) could not work on it.
 *
 * <p>Socket options other than the timeout mean nothing on a Unix socket and are ignored. One
 * thread reads and one writes at a time, as httpclient5 uses a connection.
 */
final class UnixChannelSocket extends Socket {

    private static final long RETRY_CONNECT_MILLIS = 10;

    private final UnixDomainSocketAddress address;
    private final Object readLock = new Object();
    private final Object writeLock = new Object();
    private volatile SocketChannel channel;
    private volatile Selector readSelector;
    private volatile Selector writeSelector;
    private volatile int soTimeoutMillis;
    private volatile boolean closed;
    private volatile boolean inputShut;
    private volatile boolean outputShut;
    private final InputStream input = new ChannelInput();
    private final OutputStream output = new ChannelOutput();

    UnixChannelSocket(Path path) {
        this.address = UnixDomainSocketAddress.of(path);
    }

    /**
     * Connects to the socket file; {@code endpoint} (what the HTTP client resolved for its
     * placeholder host) is ignored. A full listen queue (the engine accepts nothing) is retried
     * until {@code timeoutMillis}, then a {@link SocketTimeoutException}.
     */
    @Override
    public void connect(SocketAddress endpoint, int timeoutMillis) throws IOException {
        long deadline = timeoutMillis > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) : Long.MAX_VALUE;
        while (true) {
            if (closed) {
                throw new SocketException("Socket closed");
            }
            SocketChannel attempt = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                attempt.configureBlocking(false);
                boolean connected = attempt.connect(address);
                if (!connected) {
                    connected = awaitConnect(attempt, deadline);
                }
                if (connected) {
                    adopt(attempt);
                    return;
                }
                attempt.close();
            } catch (IOException e) {
                attempt.close();
                if (!listenQueueFull(e)) {
                    ConnectException refused = new ConnectException("Cannot connect to " + address.getPath() + ": "
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
                    refused.initCause(e);
                    throw refused;
                }
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new SocketTimeoutException("Connect to " + address.getPath() + " timed out after " + timeoutMillis
                    + " ms: the engine accepts no connections");
            }
            sleepBriefly();
        }
    }

    private static boolean awaitConnect(SocketChannel attempt, long deadline) throws IOException {
        try (Selector selector = Selector.open()) {
            attempt.register(selector, SelectionKey.OP_CONNECT);
            while (!attempt.finishConnect()) {
                long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (remaining <= 0) {
                    return false;
                }
                selector.select(remaining);
                selector.selectedKeys().clear();
            }
            return true;
        }
    }

    /** EAGAIN on a non-blocking connect: the listener's backlog is full (a hung engine), not refused. */
    private static boolean listenQueueFull(IOException e) {
        String message = e.getMessage();
        return message != null && message.contains("temporarily unavailable");
    }

    private static void sleepBriefly() throws IOException {
        try {
            Thread.sleep(RETRY_CONNECT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while connecting");
        }
    }

    private void adopt(SocketChannel connected) throws IOException {
        Selector reads = Selector.open();
        Selector writes = Selector.open();
        connected.register(reads, SelectionKey.OP_READ);
        connected.register(writes, SelectionKey.OP_WRITE);
        this.readSelector = reads;
        this.writeSelector = writes;
        this.channel = connected;
        if (closed) {
            close();
        }
    }

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
        connect(endpoint, 0);
    }

    @Override
    public InputStream getInputStream() throws IOException {
        requireConnected();
        return input;
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        requireConnected();
        return output;
    }

    private SocketChannel requireConnected() throws SocketException {
        SocketChannel current = channel;
        if (closed) {
            throw new SocketException("Socket closed");
        }
        if (current == null) {
            throw new SocketException("Socket is not connected");
        }
        return current;
    }

    /**
     * Waits until {@code selector} reports readiness, at most {@code timeoutMillis} (0: forever).
     * A wait of one millisecond or less is a poll: httpclient5's stale check reads with a 1 ms
     * timeout on every lease, and a real 1 ms sleep there would be paid by every engine call.
     */
    private void await(Selector selector, long deadlineNanos, int timeoutMillis, String what) throws IOException {
        try {
            if (timeoutMillis <= 0) {
                selector.select();
            } else {
                long remaining = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
                if (timeoutMillis <= 1 || remaining <= 0) {
                    if (selector.selectNow() == 0) {
                        throw new SocketTimeoutException(what + " timed out");
                    }
                } else {
                    selector.select(remaining);
                }
            }
            selector.selectedKeys().clear();
        } catch (ClosedSelectorException e) {
            throw new SocketException("Socket closed");
        }
        if (closed) {
            throw new SocketException("Socket closed");
        }
    }

    private static long deadline(int timeoutMillis) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    }

    private static SocketException broken(IOException e) {
        if (e instanceof SocketException socket) {
            return socket;
        }
        SocketException broken = new SocketException(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        broken.initCause(e);
        return broken;
    }

    private final class ChannelInput extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            java.util.Objects.checkFromIndexSize(offset, length, buffer.length);
            if (length == 0) {
                return 0;
            }
            if (inputShut) {
                return -1;
            }
            SocketChannel current = requireConnected();
            ByteBuffer target = ByteBuffer.wrap(buffer, offset, length);
            int timeout = soTimeoutMillis;
            long deadline = deadline(timeout);
            synchronized (readLock) {
                while (true) {
                    int n;
                    try {
                        n = current.read(target);
                    } catch (IOException e) {
                        if (closed) {
                            throw new SocketException("Socket closed");
                        }
                        throw broken(e);
                    }
                    if (n != 0) {
                        return n;
                    }
                    await(readSelector, deadline, timeout, "Read");
                }
            }
        }

        @Override
        public int available() throws IOException {
            return 0;
        }

        @Override
        public void close() throws IOException {
            UnixChannelSocket.this.close();
        }
    }

    private final class ChannelOutput extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
            java.util.Objects.checkFromIndexSize(offset, length, buffer.length);
            if (outputShut) {
                throw new SocketException("Socket output is shut down");
            }
            SocketChannel current = requireConnected();
            ByteBuffer source = ByteBuffer.wrap(buffer, offset, length);
            int timeout = soTimeoutMillis;
            synchronized (writeLock) {
                long deadline = deadline(timeout);
                while (source.hasRemaining()) {
                    int n;
                    try {
                        n = current.write(source);
                    } catch (IOException e) {
                        if (closed) {
                            throw new SocketException("Socket closed");
                        }
                        throw broken(e);
                    }
                    if (n > 0) {
                        deadline = deadline(timeout);
                    } else {
                        await(writeSelector, deadline, timeout, "Write");
                    }
                }
            }
        }

        @Override
        public void close() throws IOException {
            UnixChannelSocket.this.close();
        }
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout < 0");
        }
        soTimeoutMillis = timeout;
    }

    @Override
    public int getSoTimeout() {
        return soTimeoutMillis;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        SocketChannel current = channel;
        IOException failure = null;
        for (AutoCloseable closeable : new AutoCloseable[] {current, readSelector, writeSelector}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                failure = e instanceof IOException io ? io : new IOException(e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void shutdownInput() throws IOException {
        inputShut = true;
        requireConnected().shutdownInput();
    }

    @Override
    public void shutdownOutput() throws IOException {
        outputShut = true;
        requireConnected().shutdownOutput();
    }

    @Override
    public boolean isInputShutdown() {
        return inputShut;
    }

    @Override
    public boolean isOutputShutdown() {
        return outputShut;
    }

    @Override
    public boolean isConnected() {
        SocketChannel current = channel;
        return current != null && current.isConnected();
    }

    @Override
    public boolean isBound() {
        return channel != null;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return address;
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return null;
    }

    @Override
    public InetAddress getInetAddress() {
        return null;
    }

    @Override
    public InetAddress getLocalAddress() {
        return InetAddress.getLoopbackAddress();
    }

    @Override
    public int getPort() {
        return 0;
    }

    @Override
    public int getLocalPort() {
        return -1;
    }

    // Options without meaning on a Unix socket: accepted and ignored, as httpclient5 sets them on every socket.

    @Override
    public void bind(SocketAddress bindpoint) {
    }

    @Override
    public void setTcpNoDelay(boolean on) {
    }

    @Override
    public boolean getTcpNoDelay() {
        return true;
    }

    @Override
    public void setSoLinger(boolean on, int linger) {
    }

    @Override
    public int getSoLinger() {
        return -1;
    }

    @Override
    public void setKeepAlive(boolean on) {
    }

    @Override
    public boolean getKeepAlive() {
        return false;
    }

    @Override
    public void setReuseAddress(boolean on) {
    }

    @Override
    public boolean getReuseAddress() {
        return false;
    }

    @Override
    public void setSendBufferSize(int size) {
    }

    @Override
    public void setReceiveBufferSize(int size) {
    }

    @Override
    public String toString() {
        return "UnixChannelSocket[" + address.getPath() + (closed ? ", closed" : "") + "]";
    }
}
