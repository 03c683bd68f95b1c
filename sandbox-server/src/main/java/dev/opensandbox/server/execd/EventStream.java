package dev.opensandbox.server.execd;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The execd event stream: one JSON object per event followed by a blank line, flushed at once.
 * Upstream's daemon writes exactly this (not {@code data:}-prefixed SSE) and the 1.0.0 Java SDK
 * parses every non-blank line as JSON, so the format is kept. Writes from the output thread and
 * the keep-alive timer are serialized; after the first failed write (client gone) the stream is
 * closed and further writes are dropped.
 */
final class EventStream {

    private final OutputStream out;
    private final ObjectMapper json;
    private final Runnable onClientGone;
    private boolean closed;

    EventStream(OutputStream out, ObjectMapper json, Runnable onClientGone) {
        this.out = out;
        this.json = json;
        this.onClientGone = onClientGone;
    }

    /** Writes one event; false when the client is gone. */
    boolean send(Map<String, Object> event) {
        byte[] payload;
        try {
            payload = (json.writeValueAsString(event) + "\n\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("an event map is always serializable", e);
        }
        boolean gone;
        synchronized (this) {
            if (closed) {
                return false;
            }
            try {
                out.write(payload);
                out.flush();
                return true;
            } catch (IOException e) {
                closed = true;
                gone = true;
            }
        }
        if (gone) {
            onClientGone.run();
        }
        return false;
    }

    synchronized boolean isClosed() {
        return closed;
    }
}
