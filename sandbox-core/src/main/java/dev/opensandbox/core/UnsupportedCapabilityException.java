package dev.opensandbox.core;

/** The runtime does not offer this operation; see {@link dev.opensandbox.core.spi.RuntimeCapabilities}. */
public class UnsupportedCapabilityException extends SandboxException {

    public UnsupportedCapabilityException(String code, String message) {
        super(code, message, null);
    }

    public UnsupportedCapabilityException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.UNSUPPORTED;
    }
}
