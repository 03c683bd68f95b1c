package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.InvalidRequestException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OSEP-0011 signing against upstream's test vectors. */
class RouteSignerTest {

    static final IngressConfig.SigningKey TEST_KEY = IngressConfig.SigningKey.fromBase64("a", "bXktdGVzdC1zZWNyZXQ=");
    static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    @DisplayName("upstream's vector: my-test-secret, key a, sbx-001, port 8080, expires 2000000000 -> x2qxvk / 0ff8cd39a")
    void reproducesTheUpstreamTestVector() {
        assertEquals("my-test-secret", new String(TEST_KEY.secret(), StandardCharsets.UTF_8));

        RouteSigner.SignedRoute route = RouteSigner.sign("sbx-001", 8080, 2_000_000_000L, TEST_KEY);

        assertEquals("x2qxvk", route.expiresBase36());
        assertTrue(route.signature().startsWith("0ff8cd39"), route.signature());
        assertEquals("0ff8cd39a", route.signature());
    }

    @Test
    void expiriesAreLowercaseUnsignedBase36() {
        assertEquals("0", RouteSigner.base36(0));
        assertEquals("z", RouteSigner.base36(35));
        assertEquals("10", RouteSigner.base36(36));
        assertEquals("x2qxvk", RouteSigner.base36(2_000_000_000L));
        assertEquals("3w5e11264sgsf", RouteSigner.base36(RouteSigner.UINT64_MAX.longValue()), "uint64 max, 13 chars");
    }

    @Test
    void theCanonicalMessageIsVersionedAndNewlineTerminated() {
        assertEquals("v1\nshort\nsbx-001\n8080\nx2qxvk\n",
            new String(RouteSigner.canonical("sbx-001", 8080, "x2qxvk"), StandardCharsets.UTF_8));
        assertThrows(IllegalArgumentException.class, () -> RouteSigner.canonical("sbx-001", 0, "x2qxvk"));
        assertThrows(IllegalArgumentException.class, () -> RouteSigner.canonical("sbx-001", 65536, "x2qxvk"));
    }

    @Test
    void theSignatureIsEightHexCharactersAndTheKeyIdAndDependsOnEveryInput() {
        String signature = RouteSigner.sign("sbx-001", 8080, 2_000_000_000L, TEST_KEY).signature();
        assertTrue(signature.matches("[0-9a-f]{8}a"), signature);

        assertNotEquals(signature, RouteSigner.sign("sbx-002", 8080, 2_000_000_000L, TEST_KEY).signature());
        assertNotEquals(signature, RouteSigner.sign("sbx-001", 8081, 2_000_000_000L, TEST_KEY).signature());
        assertNotEquals(signature, RouteSigner.sign("sbx-001", 8080, 2_000_000_001L, TEST_KEY).signature());
        IngressConfig.SigningKey otherSecret = IngressConfig.SigningKey.fromBase64("a", "b3RoZXI=");
        assertNotEquals(signature, RouteSigner.sign("sbx-001", 8080, 2_000_000_000L, otherSecret).signature());
        assertTrue(RouteSigner.sign("sbx-001", 8080, 2_000_000_000L, IngressConfig.SigningKey.fromBase64("7",
            "bXktdGVzdC1zZWNyZXQ")).signature().equals("0ff8cd397"), "unpadded base64, key id 7");
    }

    @Test
    void expiriesInTheFutureUpToUint64MaxAreAccepted() {
        long next = NOW.getEpochSecond() + 1;
        assertEquals(next, RouteSigner.checkExpires(BigInteger.valueOf(next), NOW));
        assertEquals("3w5e11264sgsf", RouteSigner.base36(RouteSigner.checkExpires(RouteSigner.UINT64_MAX, NOW)));
    }

    @Test
    void negativePastPresentAndTooLargeExpiriesAre400WithUpstreamsMessages() {
        long now = NOW.getEpochSecond();
        assertRefused(BigInteger.valueOf(-1), "expires must be a non-negative Unix timestamp (uint64).");
        assertRefused(BigInteger.valueOf(now), "expires (" + now + ") must be greater than current time (" + now + ").");
        assertRefused(BigInteger.valueOf(now - 60), "expires (" + (now - 60) + ") must be greater than current time ("
            + now + ").");
        assertRefused(BigInteger.ZERO, "expires (0) must be greater than current time (" + now + ").");
        assertRefused(RouteSigner.UINT64_MAX.add(BigInteger.ONE), "expires exceeds uint64 maximum value.");
    }

    private static void assertRefused(BigInteger expires, String message) {
        InvalidRequestException error = assertThrows(InvalidRequestException.class,
            () -> RouteSigner.checkExpires(expires, NOW));
        assertEquals("SANDBOX::INVALID_PARAMETER", error.code());
        assertEquals(message, error.getMessage());
    }
}
