package dev.opensandbox.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ApiKeyGuardTest {

    /** A terminal that answers from a script; an empty answer means the time ran out. */
    private static final class FakeTerminal implements Terminal {
        final boolean interactive;
        final Optional<String> answer;
        final StringBuilder printed = new StringBuilder();
        final List<Duration> waits = new ArrayList<>();

        FakeTerminal(boolean interactive, Optional<String> answer) {
            this.interactive = interactive;
            this.answer = answer;
        }

        @Override
        public boolean interactive() {
            return interactive;
        }

        @Override
        public void print(String text) {
            printed.append(text);
        }

        @Override
        public Optional<String> readLine(Duration timeout) {
            waits.add(timeout);
            return answer;
        }
    }

    private static final FakeTerminal NO_TERMINAL = new FakeTerminal(false, Optional.empty());

    @Test
    void configuredKeyPassesSilently() {
        FakeTerminal terminal = new FakeTerminal(true, Optional.of("no"));
        assertEquals(Optional.empty(), new ApiKeyGuard(Map.of(), terminal).check(Optional.of("secret")));
        assertEquals("", terminal.printed.toString());
    }

    @Test
    void guardReadsTheEffectiveKeyOfTheConfig() {
        ServerConfig config = new ConfigLoader(Map.of("OPENSANDBOX_SERVER_API_KEY", "k"), Path.of("/nonexistent-home"))
                .embeddedDefaults().config();
        assertEquals(Optional.empty(), new ApiKeyGuard(Map.of(), NO_TERMINAL).check(config));
    }

    @Test
    void insecureVariableYesPassesWithOneWarningThatDoesNotPrintTheAssignment() {
        Optional<String> warning = new ApiKeyGuard(Map.of("OPENSANDBOX_INSECURE_SERVER", "YES"), NO_TERMINAL)
                .check(Optional.empty());

        assertTrue(warning.isPresent());
        assertTrue(warning.get().contains("OPENSANDBOX_INSECURE_SERVER"));
        assertFalse(warning.get().contains("OPENSANDBOX_INSECURE_SERVER=YES"));
    }

    @Test
    void blankKeyCountsAsNoKey() {
        assertThrows(StartupBlockedException.class,
                () -> new ApiKeyGuard(Map.of(), NO_TERMINAL).check(Optional.of("  ")));
    }

    @Test
    void insecureVariableMustBeExactlyUppercaseYes() {
        StartupBlockedException e = assertThrows(StartupBlockedException.class,
                () -> new ApiKeyGuard(Map.of("OPENSANDBOX_INSECURE_SERVER", "yes"), NO_TERMINAL).check(Optional.empty()));
        assertTrue(e.getMessage().startsWith("Startup blocked"));
    }

    @Test
    void nonInteractiveWithoutKeyIsBlockedWithTheDocumentedMessage() {
        StartupBlockedException e = assertThrows(StartupBlockedException.class,
                () -> new ApiKeyGuard(Map.of(), NO_TERMINAL).check(Optional.empty()));
        assertEquals("Startup blocked: server.api_key is empty in non-interactive mode. Set server.api_key (or "
                + "OPENSANDBOX_SERVER_API_KEY), or set OPENSANDBOX_INSECURE_SERVER=YES to run without authentication.",
                e.getMessage());
    }

    @Test
    void typingExactYesAtThePromptPassesWithAWarning() {
        FakeTerminal terminal = new FakeTerminal(true, Optional.of("YES"));

        Optional<String> warning = new ApiKeyGuard(Map.of(), terminal).check(Optional.empty());

        assertTrue(warning.orElseThrow().startsWith("Authentication is DISABLED"));
        assertTrue(terminal.printed.toString().startsWith("SECURITY WARNING: server.api_key is empty"));
        assertTrue(terminal.printed.toString().contains("Type 'YES' within 30 seconds"));
        assertEquals(List.of(Duration.ofSeconds(30)), terminal.waits);
    }

    @Test
    void typingLowercaseOrPaddedYesAborts() {
        for (String answer : List.of("yes", " YES", "YES ", "")) {
            FakeTerminal terminal = new FakeTerminal(true, Optional.of(answer));
            StartupBlockedException e = assertThrows(StartupBlockedException.class,
                    () -> new ApiKeyGuard(Map.of(), terminal).check(Optional.empty()));
            assertTrue(e.getMessage().startsWith("Startup aborted"), answer);
        }
    }

    @Test
    void noAnswerBeforeTheTimeoutAbortsSayingItTimedOut() {
        FakeTerminal terminal = new FakeTerminal(true, Optional.empty());
        StartupBlockedException e = assertThrows(StartupBlockedException.class,
                () -> new ApiKeyGuard(Map.of(), terminal).check(Optional.empty()));
        assertTrue(e.getMessage().startsWith("Startup aborted"));
        assertTrue(e.getMessage().contains("timed out"));
    }
}
