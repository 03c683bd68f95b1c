package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.EndpointRequest;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.opensandbox.server.http.ApiAssertions.assertError;
import static dev.opensandbox.server.http.ApiAssertions.assertJson;
import static dev.opensandbox.server.http.ApiAssertions.fieldNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /sandboxes/{id}/endpoints/{port}?expires=…} over a runtime that signs routes (a fake
 * standing in for Kubernetes in gateway mode): the value reaches the runtime untouched, the
 * runtime's refusals keep their status, and signed endpoints never carry the secure-access token.
 */
class SignedEndpointApiTest {

    /** Signs anything from 2000000000 on; refuses earlier expiries as the Kubernetes runtime words it. */
    static final class SigningRuntime extends ForwardingSandboxRuntime {
        final List<EndpointRequest> requests = new CopyOnWriteArrayList<>();

        SigningRuntime(SandboxRuntime delegate) {
            super(delegate);
        }

        @Override
        public Endpoint resolveEndpoint(EndpointRequest request) {
            if (!request.signed()) {
                return super.resolveEndpoint(request);
            }
            requests.add(request);
            if (request.expires().compareTo(BigInteger.valueOf(2_000_000_000L)) < 0
                || request.expires().bitLength() > 64) {
                throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, "expires (" + request.expires()
                    + ") is refused.");
            }
            delegate().inspect(request.id()).orElseThrow(() -> sandboxNotFound(request.id()));
            return Endpoint.of("gateway.example.com/" + request.id() + "/" + request.port() + "/x2qxvk/0ff8cd39a");
        }
    }

    SigningRuntime signing;
    ApiTestServer api;

    @BeforeEach
    void start() {
        api = ApiTestServer.builder().runtime(memory -> signing = new SigningRuntime(memory)).start();
    }

    @AfterEach
    void stop() {
        api.close();
    }

    String createSecured() {
        ApiTestServer.Response created = api.post("/v1/sandboxes", "{\"image\":{\"uri\":\"python:3.11\"},"
            + "\"entrypoint\":[\"tail\",\"-f\",\"/dev/null\"],\"resourceLimits\":{},\"timeout\":600,\"secureAccess\":true}");
        assertEquals(202, created.status(), created::toString);
        return created.json().get("id").asText();
    }

    @BothPrefixes
    void expiresReachesTheRuntimeAndTheSignedEndpointCarriesNoToken(String prefix) {
        String id = createSecured();

        JsonNode signed = assertJson(api.get(prefix + "/sandboxes/" + id + "/endpoints/8080?expires=2000000000"), 200);

        assertEquals("gateway.example.com/" + id + "/8080/x2qxvk/0ff8cd39a", signed.get("endpoint").asText());
        assertEquals(List.of("endpoint"), fieldNames(signed), "no secure-access header on a signed endpoint");
        EndpointRequest request = signing.requests.get(0);
        assertEquals(id, request.id().toString());
        assertEquals(8080, request.port());
        assertEquals(EndpointPurpose.EXTERNAL, request.purpose());
        assertEquals(BigInteger.valueOf(2_000_000_000L), request.expires());

        JsonNode unsigned = assertJson(api.get(prefix + "/sandboxes/" + id + "/endpoints/8080"), 200);
        assertTrue(unsigned.get("headers").has("OpenSandbox-Secure-Access"), unsigned::toString);
    }

    @Test
    void valuesBeyondALongReachTheRuntimeExactly() {
        String id = api.createSandbox("", 600, null);

        assertJson(api.get("/sandboxes/" + id + "/endpoints/8080?expires=18446744073709551615"), 200);
        assertError(api.get("/sandboxes/" + id + "/endpoints/8080?expires=18446744073709551616"), 400,
            ErrorCodes.INVALID_PARAMETER);
        assertError(api.get("/sandboxes/" + id + "/endpoints/8080?expires=-5"), 400, ErrorCodes.INVALID_PARAMETER);

        assertEquals(List.of(new BigInteger("18446744073709551615"), new BigInteger("18446744073709551616"),
            BigInteger.valueOf(-5)), signing.requests.stream().map(EndpointRequest::expires).toList());
    }

    @Test
    void theRuntimesRefusalsKeepTheirStatus() {
        String id = api.createSandbox("", 600, null);

        JsonNode past = assertError(api.get("/v1/sandboxes/" + id + "/endpoints/8080?expires=1"), 400,
            ErrorCodes.INVALID_PARAMETER);
        assertTrue(past.get("message").asText().contains("expires (1)"), past::toString);
        assertError(api.get("/v1/sandboxes/7d5e8f7a-4c64-4c4a-9a55-6f1a2b3c4d5e/endpoints/8080?expires=2000000000"),
            404, "DOCKER::SANDBOX_NOT_FOUND");
        assertError(api.get("/v1/sandboxes/" + id + "/endpoints/0?expires=2000000000"), 400, ErrorCodes.INVALID_PORT);
        assertError(api.get("/v1/sandboxes/" + id + "/endpoints/8080?expires=2e9x"), 422, "GENERAL::VALIDATION_ERROR");
    }

    @Test
    void useServerProxyWithExpiresIsRefusedBeforeTheRuntimeIsAsked() {
        String id = api.createSandbox("", 600, null);

        JsonNode error = assertError(api.get("/v1/sandboxes/" + id + "/endpoints/8080?use_server_proxy=true"
            + "&expires=2000000000"), 400, ErrorCodes.INVALID_PARAMETER);

        assertTrue(error.get("message").asText().contains("use_server_proxy cannot be combined with expires"));
        assertTrue(signing.requests.isEmpty());
    }

    @Test
    void theBuiltInExecdCannotBeReachedByASignedRoute() {
        try (ApiTestServer builtIn = ApiTestServer.builder().builtInExecd()
                .runtime(memory -> signing = new SigningRuntime(memory)).start();
             ApiTestServer plain = ApiTestServer.builder().builtInExecd().start()) {
            String id = builtIn.createSandbox("", 600, null);
            JsonNode error = assertError(builtIn.get("/v1/sandboxes/" + id + "/endpoints/44772?expires=2000000000"), 400,
                ErrorCodes.INVALID_PARAMETER);
            assertTrue(error.get("message").asText().contains("execd_image"), error::toString);

            String other = plain.createSandbox("", 600, null);
            assertError(plain.get("/v1/sandboxes/" + other + "/endpoints/44772?expires=2000000000"), 400,
                ErrorCodes.API_NOT_SUPPORTED);
        }
    }
}
