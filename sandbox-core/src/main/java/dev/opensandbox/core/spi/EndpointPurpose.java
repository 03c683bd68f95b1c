package dev.opensandbox.core.spi;

/** Who will use a resolved endpoint. */
public enum EndpointPurpose {
    /** Clients outside the server: the address is published to them. */
    EXTERNAL,
    /** The server's own reverse proxy: the address it dials. */
    INTERNAL
}
