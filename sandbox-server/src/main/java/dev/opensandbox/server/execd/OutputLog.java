package dev.opensandbox.server.execd;

import java.util.Arrays;

/**
 * The combined stdout and stderr of one command, for {@code GET /command/{id}/logs}. Offsets are
 * byte positions in the whole output since the start (the cursor clients send back); when the
 * output grows beyond the bound, the oldest bytes are dropped and reads from before them start
 * at the oldest byte kept.
 */
final class OutputLog {

    static final int DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

    private final int maxBytes;
    /** Physical room beyond the bound, so that dropping old bytes costs one move per quarter of the bound. */
    private final int slack;
    private byte[] buffer;
    private int length;
    private long dropped;

    OutputLog(int maxBytes) {
        this.maxBytes = maxBytes;
        this.slack = Math.max(maxBytes / 4, 1);
        this.buffer = new byte[Math.min(256, maxBytes)];
    }

    record Slice(byte[] data, long end) {
    }

    synchronized void append(byte[] data, int offset, int count) {
        if (count >= maxBytes) { // one chunk at least as large as the bound: keep its tail only
            dropped += length + (count - maxBytes);
            buffer = Arrays.copyOfRange(data, offset + count - maxBytes, offset + count);
            length = maxBytes;
            return;
        }
        if ((long) length + count > (long) maxBytes + slack) {
            int cut = length + count - maxBytes;
            System.arraycopy(buffer, cut, buffer, 0, length - cut);
            length -= cut;
            dropped += cut;
        }
        if (length + count > buffer.length) {
            long wanted = Math.max(buffer.length * 2L, (long) length + count);
            buffer = Arrays.copyOf(buffer, (int) Math.min(wanted, (long) maxBytes + slack));
        }
        System.arraycopy(data, offset, buffer, length, count);
        length += count;
    }

    /** Everything from byte {@code from} (clamped to the newest {@code maxBytes}) to the end. */
    synchronized Slice readFrom(long from) {
        long end = dropped + length;
        long start = Math.max(from, end - Math.min(length, maxBytes));
        if (start >= end) {
            return new Slice(new byte[0], end);
        }
        return new Slice(Arrays.copyOfRange(buffer, (int) (start - dropped), length), end);
    }
}
