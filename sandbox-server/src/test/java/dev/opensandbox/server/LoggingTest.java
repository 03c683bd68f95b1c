package dev.opensandbox.server;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import dev.opensandbox.server.config.LogSection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server's log layout: one event is one line whatever a client put into the logged values. */
class LoggingTest {

    @TempDir
    Path dir;

    private LoggerContext configure(String format) {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter()); // what the slf4j provider gives the server's own context
        Logging.configure(context, new LogSection("INFO", true, dir.resolve("server.log"), dir.resolve("access.log"),
            1_000_000, 1, format));
        return context;
    }

    private List<String> lines(String file) throws IOException {
        return Files.readAllLines(dir.resolve(file), StandardCharsets.UTF_8);
    }

    @Test
    void controlCharactersInMessagesMdcAndExceptionsAreEscaped() throws IOException {
        LoggerContext context = configure("text");
        Logger log = context.getLogger("dev.opensandbox.server.http.ErrorResponses");
        context.getMDCAdapter().put("request_id", "r1\nFORGED mdc");
        // What ErrorResponses logs for GET /v1/sandboxes/x%0aFORGED: the decoded id is in the message.
        log.info("{} {} rejected: {} {}", "GET", "/v1/sandboxes/x%0aFORGED", "DOCKER::SANDBOX_NOT_FOUND",
            "Sandbox x\nFORGED line not found.");
        log.warn("failed", new IllegalStateException("bad\r\nFORGED exception",
            new RuntimeException("cause\u0085FORGED cause\u2028FORGED separator\u001b[31m")));
        context.getLogger(Logging.ACCESS_LOGGER).info("127.0.0.1 - \"GET /a\tb\" 404 1ms");
        context.stop();

        List<String> main = lines("server.log");
        for (String line : main) {
            assertTrue(!line.startsWith("FORGED") && !line.contains("\u0085") && !line.contains("\u2028")
                && !line.contains("\u001b"), () -> "a forged line: " + main);
        }
        assertTrue(main.get(0).contains("[r1\\nFORGED mdc]"), main::toString);
        assertTrue(main.get(0).endsWith("rejected: DOCKER::SANDBOX_NOT_FOUND Sandbox x\\nFORGED line not found."),
            main::toString);
        assertTrue(main.get(1).endsWith("failed"), main::toString);
        assertEquals("java.lang.IllegalStateException: bad\\r\\nFORGED exception", main.get(2));
        assertTrue(main.stream().anyMatch(line -> line.equals(
            "Caused by: java.lang.RuntimeException: cause\\u0085FORGED cause\\u2028FORGED separator\\u001b[31m")),
            main::toString);
        assertTrue(main.stream().anyMatch(line -> line.startsWith("\tat ")), "the stack keeps its lines: " + main);
        List<String> access = lines("access.log");
        assertEquals(1, access.size(), access::toString);
        assertTrue(access.get(0).endsWith("\"GET /a\\tb\" 404 1ms"), access::toString);
    }

    @Test
    void plainMessagesAreWrittenAsTheyAre() throws IOException {
        LoggerContext context = configure("text");
        context.getLogger("x").info("sandbox={} action=create ünïcode", "3f2a");
        context.stop();
        List<String> main = lines("server.log");
        assertEquals(1, main.size());
        assertTrue(main.get(0).matches("INFO {5}\\S+ \\S+ \\[-] x: sandbox=3f2a action=create ünïcode"), main::toString);
    }

    @Test
    void jsonLinesStayOneLinePerEvent() throws IOException {
        LoggerContext context = configure("json");
        context.getLogger("x").info("Sandbox x\nFORGED not found.");
        context.stop();
        List<String> main = lines("server.log");
        assertEquals(1, main.size(), main::toString);
        assertTrue(main.get(0).contains("Sandbox x\\nFORGED not found."), main::toString);
    }
}
