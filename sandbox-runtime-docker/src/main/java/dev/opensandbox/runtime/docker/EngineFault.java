package dev.opensandbox.runtime.docker;

import java.io.IOException;

/**
 * The engine connection failed, as opposed to the engine answering with an error: it could not
 * be reached, did not answer within {@code [docker] api_timeout}, or had no free connection.
 * Thrown by {@link EngineTransport}; {@link DockerErrors#engineFault} turns it into the 503 a
 * client sees, wherever in the runtime it surfaced.
 */
final class EngineFault extends RuntimeException {

    /** What went wrong with the connection. */
    enum Kind {
        /** Not reachable, or the connection broke: {@code DOCKER::ENGINE_UNAVAILABLE}. */
        UNAVAILABLE,
        /** No answer in time: {@code DOCKER::ENGINE_TIMEOUT}. */
        TIMEOUT,
        /** Every connection of a pool in use: {@code DOCKER::ENGINE_BUSY}. */
        BUSY
    }

    private final Kind kind;

    EngineFault(Kind kind, String detail, Throwable cause) {
        super(detail, cause);
        this.kind = kind;
    }

    Kind kind() {
        return kind;
    }

    /** The same, inside a response body stream, which may only throw {@link IOException}. */
    static final class InStream extends IOException {
        private final Kind kind;

        InStream(Kind kind, String detail, IOException cause) {
            super(detail, cause);
            this.kind = kind;
        }

        Kind kind() {
            return kind;
        }
    }

    /** How a failed read of the engine's answer is classified. */
    static Kind kindOf(IOException e) {
        return e instanceof java.net.SocketTimeoutException ? Kind.TIMEOUT : Kind.UNAVAILABLE;
    }
}
