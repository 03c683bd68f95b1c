package dev.opensandbox.core;

/**
 * The platform a runtime drives (the Docker engine, the Kubernetes API server) could not be
 * reached or did not answer in time. Unlike other {@link UnavailableException}s this says
 * something about the platform's state: what the failed call did there is unknown (a request cut
 * off mid-way may have been carried out), and calling again at once is pointless. The core then
 * keeps the record of a failed create as a tombstone and leaves the clean-up to reconcile, once
 * the platform answers again.
 */
public class PlatformUnavailableException extends UnavailableException {

    public PlatformUnavailableException(String code, String message) {
        super(code, message);
    }

    public PlatformUnavailableException(String code, String message, Throwable cause) {
        super(code, message, cause);
    }
}
