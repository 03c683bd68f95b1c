package dev.opensandbox.core.service;

import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.EndpointRequest;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Signed-route requests through the SPI's default, a forwarding decorator and the service. */
class SignedEndpointServiceTest {

    static final BigInteger EXPIRES = BigInteger.valueOf(2_000_000_000L);

    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    final InMemorySandboxRuntime memory = new InMemorySandboxRuntime(clock);
    final List<ProvisionRequest> provisioned = new ArrayList<>();
    final List<String> unsignedCalls = new ArrayList<>();

    /** Signs every route; records what create received and which unsigned calls went through the three-argument verb. */
    final ForwardingSandboxRuntime signing = new ForwardingSandboxRuntime(memory) {
        @Override
        public Sandbox create(ProvisionRequest request) {
            provisioned.add(request);
            return super.create(request);
        }

        @Override
        public Endpoint resolveEndpoint(SandboxId id, int port, EndpointPurpose purpose) {
            unsignedCalls.add(purpose + ":" + port);
            return super.resolveEndpoint(id, port, purpose);
        }

        @Override
        public Endpoint resolveEndpoint(EndpointRequest request) {
            return request.signed() ? Endpoint.of("gateway/" + request.id() + "/signed") : super.resolveEndpoint(request);
        }
    };
    final SandboxService service = new SandboxService(signing, new InMemorySandboxStore(), clock, ServicePolicy.defaults());

    static SandboxSpec.Builder spec() {
        return SandboxSpec.builder().image("busybox").entrypoint("sleep", "3600").resourceLimits(Map.of())
            .timeout(Duration.ofMinutes(10));
    }

    @Test
    void aSecureAccessSandboxsTokenReachesTheRuntimeAtCreateButIsNeverPrinted() {
        Sandbox secured = service.create(spec().secureAccess(true).build());
        service.create(spec().build());

        String token = service.accessToken(secured.id()).orElseThrow();
        assertEquals(token, provisioned.get(0).accessToken());
        assertFalse(provisioned.get(0).toString().contains(token), "the token is masked in toString");
        assertNull(provisioned.get(1).accessToken());
    }

    @Test
    void signedEndpointsCarryNoSecureAccessHeaderUnsignedOnesDo() {
        Sandbox secured = service.create(spec().secureAccess(true).build());

        Endpoint signed = service.endpoint(new EndpointRequest(secured.id(), 8080, EndpointPurpose.EXTERNAL, EXPIRES));
        Endpoint unsigned = service.endpoint(EndpointRequest.of(secured.id(), 8080, EndpointPurpose.EXTERNAL));

        assertEquals(Endpoint.of("gateway/" + secured.id() + "/signed"), signed);
        assertTrue(unsigned.headers().containsKey(SandboxService.SECURE_ACCESS_HEADER));
        assertEquals(List.of("EXTERNAL:8080"), unsignedCalls, "unsigned requests reach the three-argument verb");
    }

    @Test
    void theSpisDefaultRefusesSignedRoutesAsNotSupported() {
        SandboxService plain = new SandboxService(memory, new InMemorySandboxStore(), clock, ServicePolicy.defaults());
        Sandbox sandbox = plain.create(spec().build());

        InvalidRequestException error = assertThrows(InvalidRequestException.class,
            () -> plain.endpoint(new EndpointRequest(sandbox.id(), 8080, EndpointPurpose.EXTERNAL, EXPIRES)));

        assertEquals(ErrorCodes.API_NOT_SUPPORTED, error.code());
        assertTrue(error.getMessage().contains("runtime.type='" + memory.type() + "'"), error.getMessage());
        InvalidRequestException port = assertThrows(InvalidRequestException.class,
            () -> plain.endpoint(new EndpointRequest(sandbox.id(), 0, EndpointPurpose.EXTERNAL, EXPIRES)));
        assertEquals(ErrorCodes.INVALID_PORT, port.code());
    }

    @Test
    void onlyExternalEndpointsAreSigned() {
        assertThrows(IllegalArgumentException.class,
            () -> new EndpointRequest(SandboxId.random(), 8080, EndpointPurpose.INTERNAL, EXPIRES));
    }
}
