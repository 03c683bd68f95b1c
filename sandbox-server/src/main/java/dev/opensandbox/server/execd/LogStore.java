package dev.opensandbox.server.execd;

import dev.opensandbox.core.SandboxId;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The memory of background-command output, bounded per command, per sandbox and per server.
 * Output is held in chunks; every chunk is linked in two lists in the order it was started, one
 * for its sandbox and one for the server, so that the oldest bytes of either scope are found and
 * dropped in constant time when a bound is passed. The oldest chunk of a scope is always the
 * oldest chunk of its own log, because chunks of one log are started in order.
 *
 * <p>Bounds count the capacity of the arrays held (what the heap pays), and hold after every
 * append: a log keeps between its bound minus one chunk and its bound. One lock guards every log
 * of the store; appends copy at most one exec frame under it.
 */
final class LogStore {

    /** The largest chunk: small enough that dropping one loses little, large enough to stay few. */
    static final int MAX_CHUNK_BYTES = 64 * 1024;
    private static final int MIN_CHUNK_BYTES = 256;

    private final long perCommand;
    private final long perSandbox;
    private final long perServer;
    private final int chunkBytes;

    private final Map<SandboxId, SandboxLogs> sandboxes = new HashMap<>();
    private Chunk serverHead;
    private Chunk serverTail;
    private long serverBytes;

    LogStore(long perCommand, long perSandbox, long perServer) {
        if (perCommand < 1 || perSandbox < perCommand || perServer < perSandbox) {
            throw new IllegalArgumentException("bounds must satisfy 1 <= per command <= per sandbox <= per server");
        }
        this.perCommand = perCommand;
        this.perSandbox = perSandbox;
        this.perServer = perServer;
        this.chunkBytes = (int) Math.max(1, Math.min(MAX_CHUNK_BYTES, perCommand / 8));
    }

    LogStore(ExecdSettings settings) {
        this(settings.maxLogBytesPerCommand(), settings.maxLogBytesPerSandbox(), settings.maxLogBytesPerServer());
    }

    /** A log that keeps its output within the bounds. */
    synchronized OutputLog open(SandboxId sandbox) {
        OutputLog log = new OutputLog(this, sandbox, true);
        sandboxes.computeIfAbsent(sandbox, id -> new SandboxLogs()).logs.add(log);
        return log;
    }

    /** A log that keeps nothing and only counts, for output that went to a client as it came. */
    OutputLog counting(SandboxId sandbox) {
        return new OutputLog(this, sandbox, false);
    }

    /** One piece of a log; linked in its sandbox's and the server's lists, oldest first. */
    static final class Chunk {
        final OutputLog owner;
        byte[] data;
        int length;
        Chunk serverPrevious;
        Chunk serverNext;
        Chunk sandboxPrevious;
        Chunk sandboxNext;

        Chunk(OutputLog owner, int capacity) {
            this.owner = owner;
            this.data = new byte[capacity];
        }
    }

    private static final class SandboxLogs {
        final Set<OutputLog> logs = new LinkedHashSet<>();
        Chunk head;
        Chunk tail;
        long bytes;
    }

    synchronized void append(OutputLog log, byte[] data, int offset, int count) {
        if (log.released) {
            log.end += count;
            log.dropped += count;
            return;
        }
        if (count >= perCommand) {
            // Everything this log holds and the head of this piece would be dropped at once: skip the copies.
            while (!log.chunks.isEmpty()) {
                drop(log.chunks.peekFirst());
            }
            long skipped = count - perCommand;
            log.end += skipped;
            log.dropped += skipped;
            offset += (int) skipped;
            count = (int) perCommand;
        }
        SandboxLogs scope = sandboxes.get(log.sandbox);
        while (count > 0) {
            Chunk tail = log.chunks.peekLast();
            if (tail == null || tail.length == chunkBytes) {
                tail = start(log, scope, Math.min(chunkBytes, Math.max(count, Math.min(MIN_CHUNK_BYTES, chunkBytes))));
            } else if (tail.length == tail.data.length) {
                resize(tail, scope, Math.min(chunkBytes, Math.max(tail.data.length * 2, tail.length + count)));
            }
            int n = Math.min(count, tail.data.length - tail.length);
            System.arraycopy(data, offset, tail.data, tail.length, n);
            tail.length += n;
            log.end += n;
            offset += n;
            count -= n;
        }
        while (log.retained > perCommand) {
            drop(log.chunks.peekFirst());
        }
        while (scope.bytes > perSandbox) {
            drop(scope.head);
        }
        while (serverBytes > perServer) {
            drop(serverHead);
        }
    }

    synchronized OutputLog.Slice read(OutputLog log, long from) {
        long start = Math.min(Math.max(from, log.dropped), log.end);
        byte[] data = new byte[(int) (log.end - start)];
        long position = log.dropped;
        int written = 0;
        for (Chunk chunk : log.chunks) {
            long chunkEnd = position + chunk.length;
            if (chunkEnd > start) {
                int skip = (int) Math.max(0, start - position);
                System.arraycopy(chunk.data, skip, data, written, chunk.length - skip);
                written += chunk.length - skip;
            }
            position = chunkEnd;
        }
        return new OutputLog.Slice(data, log.end);
    }

    synchronized void seal(OutputLog log) {
        Chunk tail = log.chunks.peekLast();
        if (tail != null && tail.length < tail.data.length) {
            resize(tail, sandboxes.get(log.sandbox), tail.length);
        }
    }

    synchronized void release(OutputLog log) {
        if (log.released) {
            return;
        }
        while (!log.chunks.isEmpty()) {
            drop(log.chunks.peekFirst());
        }
        log.released = true;
        SandboxLogs scope = sandboxes.get(log.sandbox);
        if (scope != null) {
            scope.logs.remove(log);
            if (scope.logs.isEmpty()) {
                sandboxes.remove(log.sandbox);
            }
        }
    }

    /** Drops every log of a sandbox at once (the sandbox is gone). */
    void releaseSandbox(SandboxId sandbox) {
        List<OutputLog> logs;
        synchronized (this) {
            SandboxLogs scope = sandboxes.get(sandbox);
            logs = scope == null ? List.of() : new ArrayList<>(scope.logs);
        }
        logs.forEach(this::release);
    }

    synchronized long retainedBytes() {
        return serverBytes;
    }

    synchronized long retainedBytes(SandboxId sandbox) {
        SandboxLogs scope = sandboxes.get(sandbox);
        return scope == null ? 0 : scope.bytes;
    }

    synchronized long retainedBytes(OutputLog log) {
        return log.retained;
    }

    /** How many sandboxes have logs kept here, for tests that check nothing is left behind. */
    synchronized int sandboxCount() {
        return sandboxes.size();
    }

    // ---------------------------------------------------------------- the two lists

    private Chunk start(OutputLog log, SandboxLogs scope, int capacity) {
        Chunk chunk = new Chunk(log, capacity);
        log.chunks.addLast(chunk);
        chunk.serverPrevious = serverTail;
        if (serverTail == null) {
            serverHead = chunk;
        } else {
            serverTail.serverNext = chunk;
        }
        serverTail = chunk;
        chunk.sandboxPrevious = scope.tail;
        if (scope.tail == null) {
            scope.head = chunk;
        } else {
            scope.tail.sandboxNext = chunk;
        }
        scope.tail = chunk;
        charge(log, scope, capacity);
        return chunk;
    }

    private void resize(Chunk chunk, SandboxLogs scope, int capacity) {
        int before = chunk.data.length;
        chunk.data = java.util.Arrays.copyOf(chunk.data, capacity);
        charge(chunk.owner, scope, capacity - before);
    }

    /** Removes the oldest chunk of its log from both lists. */
    private void drop(Chunk chunk) {
        OutputLog log = chunk.owner;
        if (log.chunks.peekFirst() != chunk) {
            throw new IllegalStateException("only the oldest chunk of a log can be dropped");
        }
        log.chunks.removeFirst();
        log.dropped += chunk.length;
        SandboxLogs scope = sandboxes.get(log.sandbox);
        if (chunk.serverPrevious == null) {
            serverHead = chunk.serverNext;
        } else {
            chunk.serverPrevious.serverNext = chunk.serverNext;
        }
        if (chunk.serverNext == null) {
            serverTail = chunk.serverPrevious;
        } else {
            chunk.serverNext.serverPrevious = chunk.serverPrevious;
        }
        if (chunk.sandboxPrevious == null) {
            scope.head = chunk.sandboxNext;
        } else {
            chunk.sandboxPrevious.sandboxNext = chunk.sandboxNext;
        }
        if (chunk.sandboxNext == null) {
            scope.tail = chunk.sandboxPrevious;
        } else {
            chunk.sandboxNext.sandboxPrevious = chunk.sandboxPrevious;
        }
        charge(log, scope, -chunk.data.length);
        chunk.data = null;
    }

    private void charge(OutputLog log, SandboxLogs scope, long bytes) {
        log.retained += bytes;
        scope.bytes += bytes;
        serverBytes += bytes;
    }
}
