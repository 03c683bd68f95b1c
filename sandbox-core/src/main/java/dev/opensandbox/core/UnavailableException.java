package dev.opensandbox.core;

/** A dependency (engine, cluster, helper image) is not reachable or not ready. */
public class UnavailableException extends SandboxException {

    public UnavailableException(String code, String message) {
        super(code, message, null);
    }

    public UnavailableException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.UNAVAILABLE;
    }
}
