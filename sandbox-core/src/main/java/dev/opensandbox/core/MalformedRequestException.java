package dev.opensandbox.core;

/** The request does not have the shape the API schema requires (upstream answers these with 422). */
public class MalformedRequestException extends SandboxException {

    public MalformedRequestException(String code, String message) {
        super(code, message, null);
    }

    public MalformedRequestException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.MALFORMED_REQUEST;
    }
}
