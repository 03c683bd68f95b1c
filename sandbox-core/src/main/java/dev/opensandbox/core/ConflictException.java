package dev.opensandbox.core;

/** The object exists but its state does not allow the operation. */
public class ConflictException extends SandboxException {

    public ConflictException(String code, String message) {
        super(code, message, null);
    }

    public ConflictException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.CONFLICT;
    }
}
