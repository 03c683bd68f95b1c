package dev.opensandbox.core.service;

import dev.opensandbox.core.SandboxException;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Assertions on the errors of the rule classes: type, code and message together. */
final class Errors {

    private Errors() {
    }

    static <T extends SandboxException> T assertError(Class<T> type, String code, String message, Executable call) {
        T e = assertThrows(type, call);
        assertEquals(code, e.code(), "code");
        assertEquals(message, e.getMessage(), "message");
        return e;
    }

    static <T extends SandboxException> T assertErrorContaining(Class<T> type, String code, String messagePart,
                                                                Executable call) {
        T e = assertThrows(type, call);
        assertEquals(code, e.code(), "code");
        assertTrue(e.getMessage().contains(messagePart),
            () -> "message '" + e.getMessage() + "' should contain '" + messagePart + "'");
        return e;
    }
}
