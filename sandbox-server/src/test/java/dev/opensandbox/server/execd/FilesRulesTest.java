package dev.opensandbox.server.execd;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FilesRulesTest {

    @Test
    void parsesStatLinesWhosePathMayHoldTheSeparator() {
        Files.Entry entry = Files.parse("regular file|82|1796602825|1796602826|root|wheel|644|/tmp/a|b.txt");
        assertEquals("/tmp/a|b.txt", entry.path());
        assertEquals("file", entry.type());
        assertEquals(82, entry.size());
        assertEquals(Instant.ofEpochSecond(1796602825), entry.modifiedAt());
        assertEquals(Instant.ofEpochSecond(1796602826), entry.createdAt());
        assertEquals("root", entry.owner());
        assertEquals("wheel", entry.group());
        assertEquals(644, entry.mode());
        assertEquals("directory", Files.parse("directory|4096|1|1|root|root|755|/etc").type());
        assertEquals("symlink", Files.parse("symbolic link|7|1|1|root|root|777|/bin/sh").type());
        assertEquals("file", Files.parse("regular empty file|0|1|1|root|root|600|/e").type());
        assertEquals("other", Files.parse("fifo|0|1|1|root|root|600|/p").type());
        assertThrows(IllegalArgumentException.class, () -> Files.parse("no separators"));
    }

    @Test
    void listingOrderPutsEachDirectoryRightBeforeItsDescendants() {
        List<String> paths = new ArrayList<>(List.of("/r/b", "/r/a/z", "/r/a", "/r/a.txt", "/r/a/b/c", "/r/a/b"));
        paths.sort((x, y) -> Files.compareSegments(Files.segments("/r", x), Files.segments("/r", y)));
        assertEquals(List.of("/r/a", "/r/a/b", "/r/a/b/c", "/r/a/z", "/r/a.txt", "/r/b"), paths);
    }

    @Test
    void modesAreOctalDigitsWrittenInDecimal() {
        assertTrue(Files.validMode(755));
        assertTrue(Files.validMode(4755));
        assertTrue(Files.validMode(0));
        assertFalse(Files.validMode(789), "8 and 9 are not octal digits");
        assertFalse(Files.validMode(77777));
        assertFalse(Files.validMode(-1));
        assertEquals(0755, Files.modeBits(755));
        assertEquals(0600, Files.modeBits(600));
        assertThrows(ExecdException.class, () -> new Files.Permission(999, null, null));
        assertThrows(ExecdException.class, () -> new Files.Permission(644, "bad name;rm", null));
    }

    @Test
    void ownerArgumentsFollowChown() {
        assertEquals("", new Files.Permission(644, null, " ").ownerArgument());
        assertEquals("app", new Files.Permission(null, "app", null).ownerArgument());
        assertEquals("app:staff", new Files.Permission(null, "app", "staff").ownerArgument());
        assertEquals(":staff", new Files.Permission(null, null, "staff").ownerArgument());
    }

    @Test
    void pathsThatLookLikeOptionsAreMadeHarmless() {
        assertEquals("./-rf", Files.safe("-rf"));
        assertEquals("/tmp/x", Files.safe("/tmp/x"));
        assertEquals("/tmp/x", Files.absolute("tmp/x"));
    }

    @Test
    void parsesSingleByteRanges() {
        assertArrayEquals(new long[] {2, 4}, BuiltInExecd.parseRange("bytes=2-4", 10));
        assertArrayEquals(new long[] {5, 9}, BuiltInExecd.parseRange("bytes=5-", 10));
        assertArrayEquals(new long[] {7, 9}, BuiltInExecd.parseRange("bytes=-3", 10));
        assertArrayEquals(new long[] {0, 9}, BuiltInExecd.parseRange("bytes=-30", 10), "a suffix longer than the file");
        assertArrayEquals(new long[] {8, 9}, BuiltInExecd.parseRange("bytes=8-100", 10), "an end past the file is clamped");
        assertNull(BuiltInExecd.parseRange("bytes=10-", 10), "starts after the last byte");
        assertNull(BuiltInExecd.parseRange("bytes=4-2", 10));
        assertNull(BuiltInExecd.parseRange("bytes=0-1,4-5", 10), "multiple ranges are not served");
        assertNull(BuiltInExecd.parseRange("items=0-1", 10));
        assertNull(BuiltInExecd.parseRange("bytes=x-1", 10));
        assertNull(BuiltInExecd.parseRange("bytes=0-0", 0), "nothing is satisfiable in an empty file");
    }
}
