package dev.opensandbox.core;

/** An operation did not finish within its time limit. */
public class DeadlineExceededException extends SandboxException {

    public DeadlineExceededException(String code, String message) {
        super(code, message, null);
    }

    public DeadlineExceededException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.DEADLINE_EXCEEDED;
    }
}
