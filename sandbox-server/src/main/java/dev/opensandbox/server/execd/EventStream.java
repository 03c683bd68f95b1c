package dev.opensandbox.server.execd;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The execd event stream: one JSON object per event followed by a blank line, flushed at once.
 * Upstream's daemon writes exactly this (not {@code data:}-prefixed SSE) and the 1.0.0 Java SDK
 * parses every non-blank line as JSON, so the format is kept. Writes are serialized; a write
 * blocks while the client is not reading (that is the backpressure that slows the command down),
 * so keep-alive pings use {@link #sendIfIdle} and never wait behind one. After the first failed
 * write (client gone, or no progress within the connection's idle timeout) the stream is closed
 * and further writes are dropped.
 */
final class EventStream {

    private final OutputStream out;
    private final ObjectMapper json;
    private final Runnable onClientGone;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean closed;

    EventStream(OutputStream out, ObjectMapper json, Runnable onClientGone) {
        this.out = out;
        this.json = json;
        this.onClientGone = onClientGone;
    }

    /** Writes one event, waiting for a write in progress; false when the client is gone. */
    boolean send(Map<String, Object> event) {
        byte[] payload = serialize(event);
        lock.lock();
        return write(payload);
    }

    /** Writes one event unless a write is in progress (it keeps the connection alive anyway). */
    boolean sendIfIdle(Map<String, Object> event) {
        byte[] payload = serialize(event);
        if (!lock.tryLock()) {
            return false;
        }
        return write(payload);
    }

    /** Called holding the lock; releases it. */
    private boolean write(byte[] payload) {
        boolean gone = false;
        try {
            if (closed) {
                return false;
            }
            out.write(payload);
            out.flush();
            return true;
        } catch (IOException e) {
            closed = true;
            gone = true;
            return false;
        } finally {
            lock.unlock();
            if (gone) {
                onClientGone.run();
            }
        }
    }

    private byte[] serialize(Map<String, Object> event) {
        try {
            return (json.writeValueAsString(event) + "\n\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("an event map is always serializable", e);
        }
    }

    boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }
}
