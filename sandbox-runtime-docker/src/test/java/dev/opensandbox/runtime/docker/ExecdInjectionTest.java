package dev.opensandbox.runtime.docker;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ExecdInjectionTest {

    @Test
    void aSingleArgumentWithSpacesIsSplitWithShellRules() {
        assertEquals(List.of("python", "-m", "http.server"), ExecdInjection.command(List.of("python -m http.server")));
        assertEquals(List.of("sh", "-c", "echo 'a b'"), ExecdInjection.command(List.of("sh -c \"echo 'a b'\"")));
        assertEquals(List.of("echo", "a b", "c\\d"), ExecdInjection.command(List.of("echo a\\ b 'c\\d'")));
        assertEquals(List.of("sleep", "1"), ExecdInjection.command(List.of("sleep", "1")), "several arguments stay as given");
        assertEquals(List.of("single"), ExecdInjection.command(List.of("single")));
        assertThrows(IllegalArgumentException.class, () -> ExecdInjection.command(List.of("echo 'unterminated")));
    }

    @Test
    void theLauncherIsTheEntrypoint() {
        assertEquals(List.of("/opt/opensandbox/bootstrap.sh"), ExecdInjection.entrypoint());
    }
}
