package dev.opensandbox.core.service;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.MalformedRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Pool;
import dev.opensandbox.core.UnsupportedCapabilityException;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.testing.FakePoolRuntime;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static dev.opensandbox.core.service.Errors.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolServiceTest {

    static final Map<String, Object> TEMPLATE = Map.of("spec", Map.of("containers",
        List.of(Map.of("name", "sandbox", "image", "python:3.11"))));
    static final Pool.Capacity CAPACITY = new Pool.Capacity(3, 1, 10, 0);

    final MutableClock clock = new MutableClock();
    final FakePoolRuntime fake = new FakePoolRuntime(clock);
    final PoolService pools = new PoolService(fake.attachTo(new InMemorySandboxRuntime(clock)));

    @Nested
    class Create {

        @Test
        void aValidRequestReachesTheRuntime() {
            Pool pool = pools.create("warm-python", TEMPLATE, CAPACITY);

            assertEquals("warm-python", pool.name());
            assertEquals(CAPACITY, pool.capacity());
            assertEquals(TEMPLATE, pool.template());
            assertEquals(List.of("create warm-python"), fake.calls());
        }

        @ParameterizedTest
        @ValueSource(strings = {"a", "0", "pool-1", "a-b-c", "9lives"})
        void dnsLabelCharactersAreAccepted(String name) {
            assertEquals(name, pools.create(name, TEMPLATE, CAPACITY).name());
        }

        @Test
        void aNameOf253CharactersIsAcceptedAnd254IsNot() {
            String longest = "a".repeat(253);
            assertEquals(longest, pools.create(longest, TEMPLATE, CAPACITY).name());
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR, "name '" + "a".repeat(254)
                    + "' is invalid: must be at most 253 characters and match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$.",
                () -> pools.create("a".repeat(254), TEMPLATE, CAPACITY));
        }

        @ParameterizedTest
        @ValueSource(strings = {"", "Pool", "-pool", "pool-", "pool.a", "pool_a", "pool a", "pöol", "a/b"})
        void aNameThatIsNotADnsLabelIsMalformed(String name) {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR, "name '" + name
                    + "' is invalid: must be at most 253 characters and match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$.",
                () -> pools.create(name, TEMPLATE, CAPACITY));
            assertTrue(fake.calls().isEmpty(), "nothing reached the runtime");
        }

        @Test
        void nameTemplateAndCapacityAreRequired() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR, "name is required.",
                () -> pools.create(null, TEMPLATE, CAPACITY));
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR, "template is required.",
                () -> pools.create("p", null, CAPACITY));
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR, "capacitySpec is required.",
                () -> pools.create("p", TEMPLATE, null));
        }

        @Test
        void anEmptyTemplateIsAcceptedAsUpstreamDoes() {
            assertEquals(Map.of(), pools.create("p", Map.of(), CAPACITY).template());
        }

        @Test
        void eachCapacityValueMustBeAtLeastZero() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "capacitySpec.bufferMax must be greater than or equal to 0.",
                () -> pools.create("p", TEMPLATE, new Pool.Capacity(-1, 0, 0, 0)));
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "capacitySpec.bufferMin must be greater than or equal to 0.",
                () -> pools.create("p", TEMPLATE, new Pool.Capacity(0, -1, 0, 0)));
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "capacitySpec.poolMax must be greater than or equal to 0.",
                () -> pools.create("p", TEMPLATE, new Pool.Capacity(0, 0, -1, 0)));
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "capacitySpec.poolMin must be greater than or equal to 0.",
                () -> pools.create("p", TEMPLATE, new Pool.Capacity(0, 0, 0, -1)));
        }

        @Test
        void capacityValuesAreNotRelatedToEachOtherAsUpstream() {
            Pool.Capacity inverted = new Pool.Capacity(1, 5, 2, 9);
            assertEquals(inverted, pools.create("p", TEMPLATE, inverted).capacity());
        }

        @Test
        void aDuplicateNameIsAConflict() {
            pools.create("p", TEMPLATE, CAPACITY);
            assertError(ConflictException.class, ErrorCodes.POOL_ALREADY_EXISTS, "Pool 'p' already exists.",
                () -> pools.create("p", TEMPLATE, CAPACITY));
        }
    }

    @Nested
    class ReadUpdateDelete {

        @Test
        void updateReplacesTheCapacityAndKeepsTheTemplate() {
            pools.create("p", TEMPLATE, CAPACITY);
            Pool.Capacity bigger = new Pool.Capacity(5, 2, 20, 1);

            Pool updated = pools.updateCapacity("p", bigger);

            assertEquals(bigger, updated.capacity());
            assertEquals(TEMPLATE, pools.get("p").template());
        }

        @Test
        void updateValidatesTheCapacityBeforeCallingTheRuntime() {
            pools.create("p", TEMPLATE, CAPACITY);
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "capacitySpec.poolMin must be greater than or equal to 0.",
                () -> pools.updateCapacity("p", new Pool.Capacity(0, 0, 0, -3)));
            assertEquals(List.of("create p"), fake.calls());
        }

        @Test
        void unknownPoolsAreNotFoundOnEveryVerb() {
            assertError(NotFoundException.class, ErrorCodes.POOL_NOT_FOUND, "Pool 'gone' not found.", () -> pools.get("gone"));
            assertError(NotFoundException.class, ErrorCodes.POOL_NOT_FOUND, "Pool 'gone' not found.",
                () -> pools.updateCapacity("gone", CAPACITY));
            assertError(NotFoundException.class, ErrorCodes.POOL_NOT_FOUND, "Pool 'gone' not found.", () -> pools.delete("gone"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"Upper", "a/b", "..", "x_y"})
        void aNameNoPoolCanHaveIsNotFoundWithoutAskingTheRuntime(String name) {
            assertError(NotFoundException.class, ErrorCodes.POOL_NOT_FOUND, "Pool '" + name + "' not found.",
                () -> pools.get(name));
            assertError(NotFoundException.class, ErrorCodes.POOL_NOT_FOUND, "Pool '" + name + "' not found.",
                () -> pools.updateCapacity(name, CAPACITY));
            assertError(NotFoundException.class, ErrorCodes.POOL_NOT_FOUND, "Pool '" + name + "' not found.",
                () -> pools.delete(name));
            assertTrue(fake.calls().isEmpty(), "nothing reached the runtime: " + fake.calls());
        }

        @Test
        void deleteRemovesThePoolAndASecondDeleteIsNotFound() {
            pools.create("p", TEMPLATE, CAPACITY);
            pools.delete("p");

            assertTrue(pools.list().isEmpty());
            assertError(NotFoundException.class, ErrorCodes.POOL_NOT_FOUND, "Pool 'p' not found.", () -> pools.delete("p"));
        }
    }

    @Test
    void aRuntimeWithoutPoolsAnswersNotSupportedOnEveryVerb() {
        PoolService none = new PoolService(new InMemorySandboxRuntime(clock));
        String message = "Pool management is only available when runtime.type is 'kubernetes'.";

        assertFalse(none.supported());
        assertError(UnsupportedCapabilityException.class, ErrorCodes.POOL_NOT_SUPPORTED, message, none::list);
        assertError(UnsupportedCapabilityException.class, ErrorCodes.POOL_NOT_SUPPORTED, message, () -> none.get("p"));
        assertError(UnsupportedCapabilityException.class, ErrorCodes.POOL_NOT_SUPPORTED, message,
            () -> none.create("p", TEMPLATE, CAPACITY));
        // Before any validation: the request is not even read on such a runtime.
        assertError(UnsupportedCapabilityException.class, ErrorCodes.POOL_NOT_SUPPORTED, message,
            () -> none.create("NOT VALID", null, null));
        assertError(UnsupportedCapabilityException.class, ErrorCodes.POOL_NOT_SUPPORTED, message,
            () -> none.updateCapacity("p", CAPACITY));
        assertError(UnsupportedCapabilityException.class, ErrorCodes.POOL_NOT_SUPPORTED, message, () -> none.delete("p"));
    }

    @Test
    void aRuntimeWithPoolsSaysSo() {
        assertTrue(pools.supported());
    }
}
