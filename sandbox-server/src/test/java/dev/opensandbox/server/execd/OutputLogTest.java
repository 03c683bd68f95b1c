package dev.opensandbox.server.execd;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OutputLogTest {

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(OutputLog.Slice slice) {
        return new String(slice.data(), StandardCharsets.UTF_8);
    }

    @Test
    void readsFromAByteCursorAndReportsTheNextOne() {
        OutputLog log = new OutputLog(1024);
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
        OutputLog log = new OutputLog(10);
        for (int i = 0; i < 30; i++) {
            log.append(bytes(Integer.toString(i % 10)), 0, 1);
        }
        OutputLog.Slice kept = log.readFrom(0);
        assertEquals(30, kept.end());
        assertEquals(10, kept.data().length);
        assertEquals("0123456789", text(kept), "the newest 10 bytes");
        assertEquals("56789", text(log.readFrom(25)));
    }

    @Test
    void oneChunkLargerThanTheBoundKeepsItsTail() {
        OutputLog log = new OutputLog(4);
        log.append(bytes("ab"), 0, 2);
        log.append(bytes("0123456789"), 0, 10);
        OutputLog.Slice kept = log.readFrom(0);
        assertEquals("6789", text(kept));
        assertEquals(12, kept.end());
    }
}
