package dev.opensandbox.server.execd;

import dev.opensandbox.core.SandboxId;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Background output bounded per command, per sandbox and per server, dropped oldest-first, freed on release. */
class LogStoreTest {

    private static final int KIB = 1024;
    private final SandboxId a = SandboxId.random();
    private final SandboxId b = SandboxId.random();

    private static void fill(OutputLog log, int bytes, char c) {
        byte[] chunk = new byte[4 * KIB];
        java.util.Arrays.fill(chunk, (byte) c);
        for (int left = bytes; left > 0; left -= chunk.length) {
            log.append(chunk, 0, Math.min(chunk.length, left));
        }
    }

    @Test
    void everyBoundHoldsAfterEveryAppend() {
        LogStore store = new LogStore(64 * KIB, 128 * KIB, 192 * KIB);
        OutputLog[] logs = {store.open(a), store.open(a), store.open(a), store.open(b), store.open(b)};
        byte[] chunk = new byte[3000];
        for (int round = 0; round < 200; round++) {
            OutputLog log = logs[round % logs.length];
            log.append(chunk, 0, chunk.length);
            assertTrue(log.retainedBytes() <= 64 * KIB, "per command: " + log.retainedBytes());
            assertTrue(store.retainedBytes(a) <= 128 * KIB, "per sandbox: " + store.retainedBytes(a));
            assertTrue(store.retainedBytes(b) <= 128 * KIB, "per sandbox: " + store.retainedBytes(b));
            assertTrue(store.retainedBytes() <= 192 * KIB, "per server: " + store.retainedBytes());
        }
        assertEquals(200L * 3000 / 5, logs[0].readFrom(0).end(), "offsets count every byte ever appended");
        assertTrue(store.retainedBytes() > 150 * KIB, "the budget is used, not wasted: " + store.retainedBytes());
    }

    @Test
    void theSandboxBoundDropsTheOldestOutputOfThatSandboxFirst() {
        LogStore store = new LogStore(64 * KIB, 64 * KIB, 1024 * KIB);
        OutputLog old = store.open(a);
        OutputLog other = store.open(b);
        fill(old, 48 * KIB, 'o');
        fill(other, 48 * KIB, 'x');
        OutputLog recent = store.open(a);
        fill(recent, 48 * KIB, 'n');

        assertEquals(48 * KIB, recent.readFrom(0).data().length, "the newest output is whole");
        assertTrue(old.readFrom(0).data().length <= 16 * KIB, "the older command of the sandbox paid");
        assertEquals(48 * KIB, other.readFrom(0).data().length, "another sandbox's output is untouched");
        OutputLog.Slice rest = old.readFrom(0);
        assertEquals(48 * KIB, rest.end(), "the cursor still counts the dropped bytes");
    }

    @Test
    void theServerBoundDropsTheOldestOutputOfAnySandbox() {
        LogStore store = new LogStore(64 * KIB, 64 * KIB, 96 * KIB);
        OutputLog first = store.open(a);
        fill(first, 64 * KIB, 'a');
        OutputLog second = store.open(b);
        fill(second, 64 * KIB, 'b');

        assertEquals(64 * KIB, second.readFrom(0).data().length);
        assertTrue(first.readFrom(0).data().length <= 32 * KIB, "the oldest bytes went: " + first.readFrom(0).data().length);
        assertTrue(store.retainedBytes() <= 96 * KIB);
    }

    @Test
    void releasingFreesAtOnceAndSandboxRemovalFreesEveryLogOfIt() {
        LogStore store = new LogStore(64 * KIB, 256 * KIB, 1024 * KIB);
        OutputLog one = store.open(a);
        OutputLog two = store.open(a);
        OutputLog kept = store.open(b);
        fill(one, 40 * KIB, '1');
        fill(two, 40 * KIB, '2');
        fill(kept, 40 * KIB, '3');

        one.release();
        assertEquals(0, one.retainedBytes());
        assertEquals(two.retainedBytes(), store.retainedBytes(a));

        store.releaseSandbox(a);
        assertEquals(0, store.retainedBytes(a));
        assertEquals(kept.retainedBytes(), store.retainedBytes(), "only sandbox b's output is left");
        assertEquals(1, store.sandboxCount(), "nothing of sandbox a is left behind");
        fill(two, 4 * KIB, 'x');
        assertEquals(0, store.retainedBytes(a), "a released log keeps nothing that arrives later");
        assertEquals(44 * KIB, two.readFrom(0).end());
    }

    @Test
    void sealingGivesBackTheUnusedRoomOfTheLastChunk() {
        LogStore store = new LogStore(8 * 1024 * KIB, 8 * 1024 * KIB, 8 * 1024 * KIB);
        OutputLog log = store.open(a);
        log.append("hi\n".getBytes(StandardCharsets.UTF_8), 0, 3);
        assertTrue(log.retainedBytes() >= 3);
        log.seal();
        assertEquals(3, log.retainedBytes(), "a finished small log costs what it holds");
    }

    @Test
    void aCountingLogKeepsNothing() {
        LogStore store = new LogStore(64 * KIB, 64 * KIB, 64 * KIB);
        OutputLog log = store.counting(a);
        fill(log, 100 * KIB, 'f');
        assertEquals(0, store.retainedBytes());
        assertEquals(100 * KIB, log.readFrom(0).end());
        assertEquals(0, log.readFrom(0).data().length);
    }

    @Test
    void boundsMustNest() {
        assertThrows(IllegalArgumentException.class, () -> new LogStore(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new LogStore(10, 5, 20));
        assertThrows(IllegalArgumentException.class, () -> new LogStore(10, 20, 15));
    }
}
