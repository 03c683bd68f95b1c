package dev.opensandbox.server.execd;

import dev.opensandbox.core.SandboxId;
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

    @Test
    void aMoveWithAMissingSourceOrTargetDirectoryIsNotFoundAndARefusedOneIsTheClientsError() {
        CommandsTest.ScriptedRuntime runtime = new CommandsTest.ScriptedRuntime();
        Files files = new Files(runtime);
        SandboxId sandbox = SandboxId.random();
        runtime.script("/nope", new CommandsTest.Step("exit", Integer.toString(Files.MISSING_EXIT)));
        runtime.script("/tmp/a", new CommandsTest.Step("stderr", "/missing/dir\n"),
            new CommandsTest.Step("exit", Integer.toString(Files.MISSING_PARENT_EXIT)));
        runtime.script("/tmp/ro", new CommandsTest.Step("stderr", "mv: can't rename '/tmp/ro': Read-only file system\n"),
            new CommandsTest.Step("exit", "1"));
        runtime.script("/tmp/dir", new CommandsTest.Step("stderr",
            "mv: cannot overwrite non-directory '/tmp/f' with directory '/tmp/dir'\n"), new CommandsTest.Step("exit", "1"));
        runtime.script("/tmp/odd", new CommandsTest.Step("stderr", "mv: I/O error\n"), new CommandsTest.Step("exit", "1"));

        ExecdException missing = assertThrows(ExecdException.class, () -> files.move(sandbox, "/nope", "/tmp/b"));
        assertEquals(404, missing.status);
        assertEquals(ExecdException.FILE_NOT_FOUND, missing.code);
        ExecdException noTarget = assertThrows(ExecdException.class, () -> files.move(sandbox, "/tmp/a", "/missing/dir/a"));
        assertEquals(404, noTarget.status);
        assertTrue(noTarget.getMessage().contains("target directory not found: /missing/dir"), noTarget.getMessage());
        ExecdException readOnly = assertThrows(ExecdException.class, () -> files.move(sandbox, "/tmp/ro", "/x"));
        assertEquals(403, readOnly.status);
        assertEquals(ExecdException.PERMISSION_DENIED, readOnly.code);
        assertEquals(400, assertThrows(ExecdException.class, () -> files.move(sandbox, "/tmp/dir", "/tmp/f")).status);
        assertEquals(500, assertThrows(ExecdException.class, () -> files.move(sandbox, "/tmp/odd", "/x")).status,
            "a failure nobody asked for stays the sandbox's");
    }

    @Test
    void refusalsNamedByTheSystemsStandardMessagesAreClientErrors() {
        assertEquals(404, Files.refused("x", "chmod: /a: No such file or directory").status);
        assertEquals(403, Files.refused("x", "chown: /etc/shadow: Operation not permitted").status);
        assertEquals(403, Files.refused("x", "mkdir: can't create directory '/proc/x': Permission denied").status);
        assertEquals(400, Files.refused("x", "chown: unknown user nobodyxx").status);
        assertEquals(400, Files.refused("x", "chown: invalid user: 'nobodyxx'").status);
        assertEquals(400, Files.refused("x", "mkdir: can't create directory '/etc/passwd/x': Not a directory").status);
        assertEquals(500, Files.refused("x", "stat: not found").status);
    }

    @Test
    void anOperationTheSandboxCannotRunIsNotImplementedNotAServerFault() {
        ExecdException missingTool = Files.refused("error reading file info",
            new SandboxShell.Result(127, "", "sh: stat: not found\n", false));
        assertEquals(501, missingTool.status);
        assertEquals(ExecdException.NOT_IMPLEMENTED, missingTool.code);
        assertEquals(501, Files.refused("error listing /", new SandboxShell.Result(2, "",
            "sh: syntax error: subshells are not supported\n", false)).status);
        assertEquals(404, Files.refused("error listing /", new SandboxShell.Result(2, "",
            "ls: /x: No such file or directory\n", false)).status, "exit 2 without a syntax error is the tool's own answer");
        assertEquals(501, Files.refused("error changing /a", new SandboxShell.Result(1, "",
            "sh: for: not found\n", false)).status, "the shell's not-found line, whatever the script's exit code");
        assertEquals(501, Files.refused("error changing /a", new SandboxShell.Result(1, "",
            "bash: line 3: stat: command not found\n", false)).status);
        assertEquals(404, Files.refused("error changing /a", new SandboxShell.Result(1, "",
            "chmod: /a/not found: No such file or directory\n", false)).status);
    }

    @Test
    void pathsLongerThanAnyFilesystemAcceptsAreRefusedBeforeAnythingRuns() {
        CommandsTest.ScriptedRuntime runtime = new CommandsTest.ScriptedRuntime();
        ExecdException error = assertThrows(ExecdException.class,
            () -> new Files(runtime).info(SandboxId.random(), List.of("/" + "a".repeat(Files.MAX_PATH_BYTES))));
        assertEquals(400, error.status);
        assertTrue(runtime.requests.isEmpty());
    }
}
