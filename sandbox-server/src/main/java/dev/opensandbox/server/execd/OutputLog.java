package dev.opensandbox.server.execd;

import dev.opensandbox.core.SandboxId;

import java.util.ArrayDeque;

/**
 * The combined stdout and stderr of one command, for {@code GET /command/{id}/logs}. Offsets are
 * byte positions in the whole output since the start (the cursor clients send back). The bytes
 * live in chunks owned by a {@link LogStore}, which drops the oldest ones when a bound is reached;
 * a read from before the oldest byte kept starts at the oldest byte kept, and a read after the log
 * was released (or of a log that never keeps anything) is empty and reports the end.
 *
 * <p>All state is guarded by the store's lock.
 */
final class OutputLog {

    final LogStore store;
    final SandboxId sandbox;
    /** Oldest first. */
    final ArrayDeque<LogStore.Chunk> chunks = new ArrayDeque<>();
    /** Bytes before the first chunk kept. */
    long dropped;
    /** Bytes ever appended. */
    long end;
    /** Array capacity held by the chunks: what this log costs in memory. */
    long retained;
    /** Keeps nothing from now on; appends only move the end. */
    boolean released;

    OutputLog(LogStore store, SandboxId sandbox, boolean keeps) {
        this.store = store;
        this.sandbox = sandbox;
        this.released = !keeps;
    }

    record Slice(byte[] data, long end) {
    }

    void append(byte[] data, int offset, int count) {
        store.append(this, data, offset, count);
    }

    /** Everything kept from byte {@code from} (clamped to the oldest byte kept) to the end. */
    Slice readFrom(long from) {
        return store.read(this, from);
    }

    /** The output is complete: give back the unused room of the last chunk. */
    void seal() {
        store.seal(this);
    }

    /** Drops every byte kept, now and later; reads then answer empty at the end. */
    void release() {
        store.release(this);
    }

    long retainedBytes() {
        return store.retainedBytes(this);
    }
}
