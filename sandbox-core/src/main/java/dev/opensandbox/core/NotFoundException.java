package dev.opensandbox.core;

/** The named sandbox, snapshot or pool does not exist. */
public class NotFoundException extends SandboxException {

    public NotFoundException(String code, String message) {
        super(code, message, null);
    }

    public NotFoundException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.NOT_FOUND;
    }
}
