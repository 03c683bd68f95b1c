package dev.opensandbox.core;

/** The runtime failed while carrying out a valid request. */
public class RuntimeFailureException extends SandboxException {

    public RuntimeFailureException(String code, String message) {
        super(code, message, null);
    }

    public RuntimeFailureException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.RUNTIME_FAILURE;
    }
}
