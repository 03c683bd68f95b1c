package dev.opensandbox.core.memory;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static dev.opensandbox.core.memory.Fixtures.exec;
import static dev.opensandbox.core.memory.Fixtures.request;
import static dev.opensandbox.core.memory.Fixtures.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InMemoryExecTest {

    private final MutableClock clock = new MutableClock();
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);
    private final SandboxId id = SandboxId.random();

    @BeforeEach
    void createSandbox() {
        SandboxSpec spec = SandboxSpec.builder().image(Fixtures.IMAGE).entrypoint("sleep", "3600")
            .env("NAME", "spec").env("WORDS", "a  b c").build();
        runtime.create(request(id, spec, Fixtures.IMAGE, clock.instant()));
    }

    private Fixtures.Result sh(String script) {
        return Fixtures.sh(runtime, id, script);
    }

    @Test
    void echoPrintsItsArgumentsAndDashNSuppressesTheNewline() {
        assertEquals("hello world\n", sh("echo hello   world").stdout());
        assertEquals("no newline", sh("echo -n no newline").stdout());
        assertEquals("\n", sh("echo").stdout());
    }

    @Test
    void printfFormatsStringsNumbersAndEscapesAndReusesTheFormat() {
        assertEquals("a=1\tb\n", sh("printf '%s=%d\\t%s\\n' a 1 b").stdout());
        assertEquals("[x][y][z]", sh("printf '[%s]' x y z").stdout());
        assertEquals("100%\n", sh("printf '100%%\\n'").stdout());
    }

    @Test
    void singleQuotesKeepEverythingLiteral() {
        assertEquals("$NAME \"x\" \\n\n", sh("echo '$NAME \"x\" \\n'").stdout());
    }

    @Test
    void doubleQuotesExpandVariablesAndHonourBackslashEscapes() {
        assertEquals("spec 'q' $NAME \"x\"\n", sh("echo \"$NAME 'q' \\$NAME \\\"x\\\"\"").stdout());
    }

    @Test
    void bracedAndBareVariablesExpandAndUnsetOnesAreEmpty() {
        assertEquals("specX spec []\n", sh("echo ${NAME}X $NAME [$UNSET]").stdout());
    }

    @Test
    void unquotedExpansionIsSplitIntoFieldsButQuotedExpansionIsNot() {
        assertEquals("[a][b][c]", sh("printf '[%s]' $WORDS").stdout());
        assertEquals("[a  b c]", sh("printf '[%s]' \"$WORDS\"").stdout());
        assertEquals("[]", sh("printf '[%s]' \"\"").stdout());
    }

    @Test
    void requestEnvironmentOverridesTheSandboxEnvironment() {
        ExecRequest request = new ExecRequest(List.of("sh", "-c", "echo $NAME $EXTRA"), Map.of("NAME", "req", "EXTRA", "e"), null);

        assertEquals("req e\n", exec(runtime, id, request).stdout());
        assertEquals("spec\n", sh("echo $NAME").stdout());
    }

    @Test
    void argvWithoutAShellIsNotExpanded() {
        assertEquals("$NAME a;b\n", exec(runtime, id, ExecRequest.of("echo", "$NAME", "a;b")).stdout());
        assertEquals("x\n", exec(runtime, id, ExecRequest.of("/bin/echo", "x")).stdout());
    }

    @Test
    void statusDecidesAndOrListsAndSemicolonsAlwaysRun() {
        assertEquals("1\n3\n", sh("echo 1 && false && echo 2; echo 3").stdout());
        assertEquals("fallback\n", sh("false || echo fallback").stdout());
        assertEquals("", sh("true || echo skipped").stdout());
        assertEquals("c\n", sh("true || echo a && echo c").stdout());
        assertEquals(1, sh("false && echo never").exitCode());
    }

    @Test
    void newlinesSeparateCommandsAndCommentsAreIgnored() {
        assertEquals("a\nb\n", sh("echo a # trailing\n\n# whole line\necho b\n").stdout());
    }

    @Test
    void exitStopsTheScriptWithItsCode() {
        Fixtures.Result result = sh("echo before; exit 3; echo after");

        assertEquals(3, result.exitCode());
        assertEquals("before\n", result.stdout());
        assertEquals(44, sh("exit 300").exitCode());
        assertEquals(1, sh("false; exit").exitCode());
    }

    @Test
    void lastCommandDecidesTheExitCodeAndDollarQuestionReportsIt() {
        assertEquals(1, sh("true; false").exitCode());
        assertEquals("1 0\n", sh("false; A=$?; true; echo $A $?").stdout());
    }

    @Test
    void unknownCommandReports127AndTheScriptGoesOn() {
        Fixtures.Result result = sh("nosuchtool --flag; echo next");

        assertEquals("sh: nosuchtool: not found\n", result.stderr());
        assertEquals("next\n", result.stdout());
        assertEquals(0, result.exitCode());
        assertEquals(127, exec(runtime, id, ExecRequest.of("python3", "-V")).exitCode());
        assertEquals("sh: python3: not found\n", exec(runtime, id, ExecRequest.of("python3", "-V")).stderr());
    }

    @Test
    void redirectionsWriteTruncateAndAppendFiles() {
        Fixtures.Result result = sh("echo one > /tmp/f; echo two >> /tmp/f; cat /tmp/f; echo three >/tmp/f; cat /tmp/f");

        assertEquals("one\ntwo\nthree\n", result.stdout());
        assertEquals("", sh("echo gone > /dev/null").stdout());
    }

    @Test
    void stdoutCanBeSentToStderrAndBack() {
        Fixtures.Result toStderr = sh("echo e1 >&2; echo e2 1>&2; echo out");
        assertEquals("e1\ne2\n", toStderr.stderr());
        assertEquals("out\n", toStderr.stdout());

        Fixtures.Result merged = sh("cat /missing 2>&1");
        assertEquals("cat: /missing: No such file or directory\n", merged.stdout());
        assertEquals("", merged.stderr());

        assertEquals("cat: /missing: No such file or directory\n", sh("cat /missing 2> /tmp/err; cat /tmp/err").stdout());
    }

    @Test
    void redirectionIntoAMissingDirectoryFails() {
        Fixtures.Result result = sh("echo x > /nope/file");

        assertEquals(2, result.exitCode());
        assertEquals("sh: cannot create /nope/file: No such file or directory\n", result.stderr());
    }

    @Test
    void catOfAMissingFileFailsButPrintsTheOthers() {
        runtime.writeFile(id, "/tmp/a", new java.io.ByteArrayInputStream("A".getBytes()), 1, 0644);

        Fixtures.Result result = sh("cat /tmp/missing /tmp/a");

        assertEquals(1, result.exitCode());
        assertEquals("A", result.stdout());
        assertEquals("cat: /tmp/missing: No such file or directory\n", result.stderr());
    }

    @Test
    void fileCommandsManipulateTheSandboxFilesystem() {
        assertEquals("b\nc\nf\n", sh("mkdir -p /w/a/b && mkdir /w/a/c && touch /w/a/f && ls /w/a").stdout());
        assertEquals("a\n", sh("rm -rf /w/a/b; ls /w; ls /w/a/b").stdout());
        assertEquals(2, sh("ls /w/a/b").exitCode());
        assertEquals("rm: cannot remove '/w/a/c': Is a directory\n", sh("rm /w/a/c").stderr());
        assertEquals("rm: cannot remove '/none': No such file or directory\n", sh("rm /none").stderr());
        assertEquals(0, sh("rm -f /none").exitCode());
        assertEquals("mkdir: cannot create directory '/w': File exists\n", sh("mkdir /w").stderr());
        assertEquals(1, sh("mkdir /x/y").exitCode());
    }

    @Test
    void workingDirectoryDecidesPwdAndRelativePaths() {
        sh("mkdir -p /srv/app");
        ExecRequest request = new ExecRequest(List.of("sh", "-c", "pwd; echo hi > note; cat /srv/app/note; cd ..; pwd"),
            Map.of(), "/srv/app");

        assertEquals("/srv/app\nhi\n/srv\n", exec(runtime, id, request).stdout());
        assertEquals("/\n", sh("pwd").stdout());
    }

    @Test
    void envAndPrintenvShowTheEnvironment() {
        assertEquals("spec\n", sh("printenv NAME").stdout());
        assertEquals(1, sh("printenv UNSET").exitCode());
        assertTrue(sh("env").stdout().contains("NAME=spec\n"));
        assertEquals("v\n", sh("env ONLY=v printenv ONLY").stdout());
    }

    @Test
    void assignmentsAndExportSetVariablesAndPrefixesApplyToOneCommand() {
        assertEquals("1 2\n", sh("A=1; export B=2; echo $A $B").stdout());
        assertEquals("tmp\n[]\n", sh("T=tmp printenv T; echo [$T]").stdout());
    }

    @Test
    void sleepCompletesAtOnceInsideExec() {
        Fixtures.Result result = sh("sleep 30 && echo woke");

        assertEquals("woke\n", result.stdout());
        assertEquals(1, sh("sleep soon").exitCode());
    }

    @Test
    void nestedShellsAndScriptFilesRunWithTheirOwnExit() {
        assertEquals(5, exec(runtime, id, ExecRequest.of("/bin/sh", "-c", "sh -c 'exit 5'")).exitCode());
        assertEquals("inner\nouter\n", sh("sh -c 'echo inner; exit 1'; echo outer").stdout());

        sh("echo 'echo from file; exit 4' > /tmp/s.sh");
        assertEquals(4, exec(runtime, id, ExecRequest.of("sh", "/tmp/s.sh")).exitCode());
    }

    @Test
    void errexitStopsAtTheFirstFailure() {
        Fixtures.Result result = exec(runtime, id, ExecRequest.of("sh", "-ec", "echo a; false; echo b"));

        assertEquals(1, result.exitCode());
        assertEquals("a\n", result.stdout());
        assertEquals("ok\n", sh("set -e; false || echo ok").stdout());
        assertEquals("a\n", sh("set -eu; echo a; false; echo b").stdout());
        assertEquals("a\nb\n", sh("set -e; set +e; echo a; false; echo b").stdout());
        assertEquals("b\n", exec(runtime, id, ExecRequest.of("bash", "--noprofile", "-c", "false; echo b")).stdout());
    }

    @Test
    void unsupportedSyntaxFailsLoudlyWithStatusTwo() {
        for (String script : List.of("echo a | cat", "sleep 1 &", "echo $(id)", "echo `id`", "cat < /tmp/x",
            "echo 'open", "&& echo x", "echo x &&")) {
            Fixtures.Result result = sh(script);
            assertEquals(2, result.exitCode(), script);
            assertTrue(result.stderr().startsWith("sh: syntax error: "), script);
        }
    }

    @Test
    void outputIsDeliveredBeforeExecReturnsAndTheHandleIsComplete() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExecHandle handle = runtime.exec(id, ExecRequest.of("sh", "-c", "echo done; exit 7"), new ExecOutput() {
            @Override
            public void stdout(byte[] data, int offset, int length) {
                out.write(data, offset, length);
            }

            @Override
            public void stderr(byte[] data, int offset, int length) {
            }
        });

        assertEquals("done\n", out.toString());
        assertEquals(OptionalInt.of(7), handle.exitCode());
        assertEquals(7, handle.awaitExit(Duration.ZERO));
    }

    @Test
    void execOnAPausedOrExitedSandboxIsAConflict() {
        runtime.pause(id);
        ConflictException paused = assertThrows(ConflictException.class, () -> sh("echo x"));
        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", paused.code());

        SandboxId exited = SandboxId.random();
        runtime.create(request(exited, clock.instant(), "true"));
        assertEquals("DOCKER::SANDBOX_NOT_RUNNING",
            assertThrows(ConflictException.class, () -> Fixtures.sh(runtime, exited, "echo x")).code());
    }

    @Test
    void execOnAnUnknownSandboxIsNotFound() {
        assertEquals("DOCKER::SANDBOX_NOT_FOUND",
            assertThrows(NotFoundException.class, () -> Fixtures.sh(runtime, SandboxId.random(), "true")).code());
    }
}
