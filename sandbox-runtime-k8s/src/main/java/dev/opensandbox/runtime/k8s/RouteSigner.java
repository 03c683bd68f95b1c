package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * OSEP-0011 signed routes, the server's half: checks the requested expiry and computes the short
 * route token the OpenSandbox ingress verifies. Pure: no I/O, no clock of its own (the caller
 * passes "now"), so the upstream test vectors reproduce exactly.
 *
 * <pre>
 * expires_b36 = lowercase base 36 of the expiry (unsigned 64-bit Unix seconds)
 * canonical   = "v1\nshort\n" + id + "\n" + port + "\n" + expires_b36 + "\n"
 * digest      = SHA-256( BE32(len(secret)) ‖ secret ‖ BE32(len(canonical)) ‖ canonical )
 * signature   = first 8 hex characters of digest + the one-character key id
 * </pre>
 *
 * The length prefixes make the secret/message boundary unambiguous (no HMAC, as upstream).
 */
final class RouteSigner {

    /** 2<sup>64</sup> − 1: the ingress parses the expiry as an unsigned 64-bit integer. */
    static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private static final int SIGNATURE_HEX_CHARS = 8;

    /** A signed route's two path/host parts. */
    record SignedRoute(String expiresBase36, String signature) {
    }

    private RouteSigner() {
    }

    /**
     * Checks an expiry as upstream does, in upstream's order and words (400
     * {@code SANDBOX::INVALID_PARAMETER}): not negative, later than {@code now} (whole seconds),
     * at most 2<sup>64</sup> − 1.
     *
     * @return the expiry as an unsigned 64-bit value (use {@link Long#toUnsignedString})
     */
    static long checkExpires(BigInteger expires, Instant now) {
        if (expires.signum() < 0) {
            throw invalid("expires must be a non-negative Unix timestamp (uint64).");
        }
        long nowSeconds = now.getEpochSecond();
        if (expires.compareTo(BigInteger.valueOf(nowSeconds)) <= 0) {
            throw invalid("expires (" + expires + ") must be greater than current time (" + nowSeconds + ").");
        }
        if (expires.compareTo(UINT64_MAX) > 0) {
            throw invalid("expires exceeds uint64 maximum value.");
        }
        return expires.longValue();
    }

    /** Signs the route to {@code port} of sandbox {@code id} until {@code expires} (unsigned) with {@code key}. */
    static SignedRoute sign(String id, int port, long expires, IngressConfig.SigningKey key) {
        String expiresBase36 = base36(expires);
        return new SignedRoute(expiresBase36, signature(key.secret(), key.keyId(), canonical(id, port, expiresBase36)));
    }

    /** Lowercase base 36 of an unsigned 64-bit value: {@code 0}, {@code z}, {@code 10}, ... at most 13 characters. */
    static String base36(long unsignedValue) {
        return Long.toUnsignedString(unsignedValue, 36);
    }

    /** The signed message: {@code v1\nshort\n<id>\n<port>\n<expires_b36>\n} in UTF-8. */
    static byte[] canonical(String id, int port, String expiresBase36) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is outside 1..65535");
        }
        return ("v1\nshort\n" + id + "\n" + port + "\n" + expiresBase36 + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The first 8 hex characters of the length-prefixed SHA-256, followed by the key id. */
    static String signature(byte[] secret, String keyId, byte[] canonical) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        sha256.update(ByteBuffer.allocate(4).putInt(secret.length).array());
        sha256.update(secret);
        sha256.update(ByteBuffer.allocate(4).putInt(canonical.length).array());
        sha256.update(canonical);
        return HexFormat.of().formatHex(sha256.digest()).substring(0, SIGNATURE_HEX_CHARS) + keyId;
    }

    private static InvalidRequestException invalid(String message) {
        return new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, message);
    }
}
