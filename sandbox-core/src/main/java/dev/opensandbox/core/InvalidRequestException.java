package dev.opensandbox.core;

/** The request breaks a rule of the lifecycle API. */
public class InvalidRequestException extends SandboxException {

    public InvalidRequestException(String code, String message) {
        super(code, message, null);
    }

    public InvalidRequestException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.INVALID_REQUEST;
    }
}
