package dev.opensandbox.server.execd;

import dev.opensandbox.core.SandboxId;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The byte cursor of {@code GET /command/{id}/logs}: absolute offsets, kept when old bytes are dropped. */
class OutputLogTest {

    private static final SandboxId SANDBOX = SandboxId.random();

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(OutputLog.Slice slice) {
        return new String(slice.data(), StandardCharsets.UTF_8);
    }

    private static OutputLog log(int maxBytes) {
        return new LogStore(maxBytes, maxBytes, maxBytes).open(SANDBOX);
    }

    @Test
    void readsFromAByteCursorAndReportsTheNextOne() {
        OutputLog log = log(1024);
        log.append(bytes("bg\n"), 0, 3);
        log.append(bytes("xxdone\nyy"), 2, 5);

        OutputLog.Slice all = log.readFrom(0);
        assertEquals("bg\ndone\n", text(all));
        assertEquals(8, all.end());
        assertEquals("done\n", text(log.readFrom(3)));
        assertEquals("", text(log.readFrom(8)));
        assertEquals(8, log.readFrom(100).end(), "a cursor past the end reads nothing and keeps the end");
    }

    @Test
    void dropsTheOldestBytesBeyondTheBoundButKeepsAbsoluteOffsets() {
        OutputLog log = log(10);
        for (int i = 0; i < 30; i++) {
            log.append(bytes(Integer.toString(i % 10)), 0, 1);
        }
        OutputLog.Slice kept = log.readFrom(0);
        assertEquals(30, kept.end());
        assertEquals(10, kept.data().length);
        assertEquals("0123456789", text(kept), "the newest 10 bytes: a read from before them starts at the oldest kept");
        assertEquals("56789", text(log.readFrom(25)));
    }

    @Test
    void oneChunkLargerThanTheBoundKeepsItsTail() {
        OutputLog log = log(4);
        log.append(bytes("ab"), 0, 2);
        log.append(bytes("0123456789"), 0, 10);
        OutputLog.Slice kept = log.readFrom(0);
        assertEquals("6789", text(kept));
        assertEquals(12, kept.end());
    }

    @Test
    void cursorsAcrossChunkBoundariesReadExactlyTheBytesAfterThem() {
        OutputLog log = log(1024 * 1024); // 64 KiB chunks
        byte[] data = new byte[200_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) ('a' + i % 26);
        }
        for (int at = 0; at < data.length; at += 7_000) {
            log.append(data, at, Math.min(7_000, data.length - at));
        }
        for (long cursor : new long[] {0, 1, 65_535, 65_536, 65_537, 131_072, 199_999, 200_000}) {
            OutputLog.Slice slice = log.readFrom(cursor);
            assertEquals(200_000, slice.end());
            assertEquals(200_000 - cursor, slice.data().length, "from " + cursor);
            if (slice.data().length > 0) {
                assertEquals(data[(int) cursor], slice.data()[0], "from " + cursor);
                assertEquals(data[data.length - 1], slice.data()[slice.data().length - 1]);
            }
        }
    }

    @Test
    void aReleasedLogReadsEmptyAtItsEndAndKeepsCountingAppends() {
        OutputLog log = log(1024);
        log.append(bytes("hello"), 0, 5);
        log.release();
        assertEquals("", text(log.readFrom(0)));
        assertEquals(5, log.readFrom(0).end());
        log.append(bytes("more"), 0, 4);
        assertEquals(9, log.readFrom(0).end());
        assertEquals(0, log.retainedBytes());
    }
}
