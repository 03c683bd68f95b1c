package dev.opensandbox.core.service;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.MalformedRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Page;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.memory.InMemorySandboxRuntime;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.store.SandboxRecord;
import dev.opensandbox.core.testing.MutableClock;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.ResourceLimits;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SandboxServiceTest {

    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00.123456789Z");

    private final MutableClock clock = new MutableClock(T0);
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);
    private final InMemorySandboxStore store = new InMemorySandboxStore();
    private final SandboxService service = new SandboxService(runtime, store, clock, ServicePolicy.defaults());

    /** A valid request on the busybox test image, ten minutes of timeout; shared by the service tests. */
    static SandboxSpec.Builder spec() {
        return SandboxSpec.builder()
            .image("opensandbox-test/busybox:latest")
            .entrypoint("sleep", "3600")
            .resourceLimits(Map.of("cpu", "500m", "memory", "512Mi"))
            .timeout(Duration.ofMinutes(10));
    }

    // ------------------------------------------------------------ create

    @Test
    void createReturnsRunningWithTheRequestedEntrypointMetadataAndExpiry() {
        Sandbox sandbox = service.create(spec().metadata("team", "infra").build());

        Instant createdAt = T0.truncatedTo(java.time.temporal.ChronoUnit.MICROS);
        assertEquals(SandboxState.RUNNING, sandbox.status().state());
        assertEquals(List.of("sleep", "3600"), sandbox.entrypoint());
        assertEquals(Map.of("team", "infra"), sandbox.metadata());
        assertEquals(createdAt, sandbox.createdAt());
        assertEquals(createdAt.plus(Duration.ofMinutes(10)), sandbox.expiresAt());
        assertEquals(SandboxRecord.Phase.READY, store.find(sandbox.id()).orElseThrow().phase());
        assertEquals(sandbox.expiresAt(), service.expiry().deadlineOf(sandbox.id()).orElseThrow());
    }

    @Test
    void createWithoutTimeoutIsManualCleanupWithoutDeadline() {
        Sandbox sandbox = service.create(spec().timeout(null).build());

        assertNull(sandbox.expiresAt());
        assertTrue(service.expiry().deadlineOf(sandbox.id()).isEmpty());
        assertNull(service.get(sandbox.id()).expiresAt());
    }

    @Test
    void aFailedCreateLeavesNoRuntimeObjectAndNoRecord() {
        runtime.failNextCreate(new RuntimeFailureException("DOCKER::SANDBOX_IMAGE_PULL_FAILED", "Failed to pull image x"));

        SandboxException error = assertThrows(SandboxException.class, () -> service.create(spec().build()));

        assertEquals("DOCKER::SANDBOX_IMAGE_PULL_FAILED", error.code());
        assertTrue(runtime.list().isEmpty());
        assertTrue(store.findAll().isEmpty());
        assertEquals(0, service.expiry().size());
    }

    @Test
    void anInvalidRequestTouchesNeitherRuntimeNorStore() {
        InvalidRequestException error = assertThrows(InvalidRequestException.class,
            () -> service.create(spec().metadata("opensandbox.io/id", "x").build()));

        assertEquals("SANDBOX::INVALID_METADATA_LABEL", error.code());
        assertTrue(runtime.list().isEmpty());
        assertTrue(store.findAll().isEmpty());
    }

    @Test
    void aSchemaViolationIsMalformedRequest() {
        assertThrows(MalformedRequestException.class, () -> service.create(spec().timeout(Duration.ofSeconds(10)).build()));
    }

    // ------------------------------------------------------------ get / list

    @Test
    void getOfAnUnknownSandboxIsTheRuntimesNotFound() {
        SandboxId id = SandboxId.random();
        NotFoundException error = assertThrows(NotFoundException.class, () -> service.get(id));

        assertEquals("DOCKER::SANDBOX_NOT_FOUND", error.code());
        assertTrue(error.getMessage().contains(id.toString()));
    }

    @Test
    void listFiltersStatesWithOrCaseInsensitivelyAndMetadataWithAnd() {
        Sandbox a = service.create(spec().metadata(Map.of("team", "a", "env", "prod")).build());
        clock.advance(Duration.ofSeconds(1));
        Sandbox b = service.create(spec().metadata(Map.of("team", "b", "env", "prod")).build());
        clock.advance(Duration.ofSeconds(1));
        Sandbox c = service.create(spec().metadata(Map.of("team", "a", "env", "dev")).build());
        service.pause(c.id());

        assertEquals(List.of(c.id(), b.id(), a.id()), ids(service.list(query(Set.of(), Map.of()))));
        assertEquals(List.of(b.id(), a.id()), ids(service.list(query(Set.of("RUNNING"), Map.of()))));
        assertEquals(List.of(c.id(), b.id(), a.id()), ids(service.list(query(Set.of("running", "Paused"), Map.of()))));
        assertEquals(List.of(a.id()), ids(service.list(query(Set.of(), Map.of("team", "a", "env", "prod")))));
        assertEquals(List.of(), ids(service.list(query(Set.of(""), Map.of()))));
        assertEquals(List.of(), ids(service.list(query(Set.of(), Map.of("team", "")))));
    }

    @Test
    void listPaginationArithmeticIsExact() {
        for (int i = 0; i < 5; i++) {
            service.create(spec().build());
            clock.advance(Duration.ofSeconds(1));
        }
        Page<Sandbox> page3 = service.list(new SandboxQuery(Set.of(), Map.of(), 3, 2));
        assertEquals(1, page3.items().size());
        assertEquals(5, page3.totalItems());
        assertEquals(3, page3.totalPages());
        assertFalse(page3.hasNextPage());

        Page<Sandbox> page1 = service.list(new SandboxQuery(Set.of(), Map.of(), 1, 2));
        assertTrue(page1.hasNextPage());

        Page<Sandbox> beyond = service.list(new SandboxQuery(Set.of(), Map.of(), Long.MAX_VALUE, 200));
        assertTrue(beyond.items().isEmpty());
        assertEquals(Long.MAX_VALUE, beyond.page());
    }

    @Test
    void listRejectsOutOfRangePaging() {
        assertThrows(MalformedRequestException.class, () -> new SandboxQuery(Set.of(), Map.of(), 0, 20));
        assertThrows(MalformedRequestException.class, () -> new SandboxQuery(Set.of(), Map.of(), 1, 201));
        assertThrows(MalformedRequestException.class, () -> new SandboxQuery(Set.of(), Map.of(), 1, 0));
    }

    // ------------------------------------------------------------ delete / pause / resume

    @Test
    void deleteRemovesSandboxRecordAndDeadlineAndASecondDeleteIsNotFound() {
        Sandbox sandbox = service.create(spec().build());

        service.delete(sandbox.id());

        assertTrue(runtime.inspect(sandbox.id()).isEmpty());
        assertTrue(store.find(sandbox.id()).isEmpty());
        assertTrue(service.expiry().deadlineOf(sandbox.id()).isEmpty());
        NotFoundException again = assertThrows(NotFoundException.class, () -> service.delete(sandbox.id()));
        assertEquals("DOCKER::SANDBOX_NOT_FOUND", again.code());
    }

    @Test
    void pauseAndResumeConflictsUseTheRuntimeCodes() {
        Sandbox sandbox = service.create(spec().build());
        service.pause(sandbox.id());
        assertEquals(SandboxState.PAUSED, service.get(sandbox.id()).status().state());

        ConflictException pausedTwice = assertThrows(ConflictException.class, () -> service.pause(sandbox.id()));
        assertEquals("DOCKER::SANDBOX_NOT_RUNNING", pausedTwice.code());

        service.resume(sandbox.id());
        ConflictException resumedTwice = assertThrows(ConflictException.class, () -> service.resume(sandbox.id()));
        assertEquals("DOCKER::SANDBOX_NOT_PAUSED", resumedTwice.code());
    }

    // ------------------------------------------------------------ renew / expiry

    @Test
    void aReadThatOverlapsADeleteNeverShowsTheCreateTimeExpiry() throws Exception {
        java.util.concurrent.CountDownLatch inspected = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch deleted = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean pauseNextInspect = new java.util.concurrent.atomic.AtomicBoolean();
        SandboxRuntime pausing = new ForwardingSandboxRuntime(runtime) {
            @Override
            public Optional<Sandbox> inspect(SandboxId id) {
                Optional<Sandbox> seen = super.inspect(id);
                if (pauseNextInspect.getAndSet(false)) {
                    inspected.countDown();
                    try {
                        deleted.await(10, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return seen;
            }
        };
        SandboxService reading = new SandboxService(pausing, store, clock, ServicePolicy.defaults());
        Sandbox sandbox = reading.create(spec().build());
        Instant renewed = reading.renew(sandbox.id(), T0.plus(Duration.ofHours(2)));

        pauseNextInspect.set(true);
        java.util.concurrent.CompletableFuture<Optional<Sandbox>> read = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return Optional.of(reading.get(sandbox.id()));
            } catch (NotFoundException gone) {
                return Optional.empty();
            }
        });
        assertTrue(inspected.await(10, java.util.concurrent.TimeUnit.SECONDS));
        service.delete(sandbox.id()); // runs while the read is between the runtime and the store
        deleted.countDown();

        Optional<Sandbox> seen = read.get(10, java.util.concurrent.TimeUnit.SECONDS);
        seen.ifPresent(s -> assertEquals(renewed, s.expiresAt(), "a sandbox is shown with its stored expiry or not at all"));
    }

    @Test
    void renewToThePastIsInvalidExpiration() {
        Sandbox sandbox = service.create(spec().build());

        InvalidRequestException error = assertThrows(InvalidRequestException.class,
            () -> service.renew(sandbox.id(), T0.minusSeconds(1)));

        assertEquals("DOCKER::INVALID_EXPIRATION", error.code());
        assertEquals("New expiration time must be in the future.", error.getMessage());
    }

    @Test
    void renewOfAManualCleanupSandboxIsAConflict() {
        Sandbox sandbox = service.create(spec().timeout(null).build());

        ConflictException error = assertThrows(ConflictException.class,
            () -> service.renew(sandbox.id(), T0.plusSeconds(3600)));

        assertEquals("DOCKER::INVALID_EXPIRATION", error.code());
        assertEquals("Sandbox " + sandbox.id() + " does not have automatic expiration enabled.", error.getMessage());
    }

    @Test
    void renewOfAnUnknownSandboxIsNotFoundBeforeTheTimeIsChecked() {
        assertThrows(NotFoundException.class, () -> service.renew(SandboxId.random(), T0.minusSeconds(1)));
    }

    @Test
    void renewIsPersistedMovesTheDeadlineAndMayShorten() {
        Sandbox sandbox = service.create(spec().build());
        Instant later = T0.plus(Duration.ofHours(2));

        Instant accepted = service.renew(sandbox.id(), later.plusNanos(789));

        assertEquals(later.plusNanos(789).truncatedTo(java.time.temporal.ChronoUnit.MICROS), accepted);
        assertEquals(accepted, store.find(sandbox.id()).orElseThrow().expiresAt());
        assertEquals(accepted, service.expiry().deadlineOf(sandbox.id()).orElseThrow());
        assertEquals(accepted, service.get(sandbox.id()).expiresAt());

        Instant sooner = T0.plus(Duration.ofMinutes(5)).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
        assertEquals(sooner, service.renew(sandbox.id(), sooner));
    }

    @Test
    void anOverdueSandboxIsRemovedWhenItsDeadlineFires() {
        Sandbox sandbox = service.create(spec().build());
        clock.advance(Duration.ofMinutes(10));

        assertEquals(1, service.expiry().fireDue());

        assertTrue(runtime.inspect(sandbox.id()).isEmpty());
        assertTrue(store.find(sandbox.id()).isEmpty());
    }

    @Test
    void aRenewalBeforeTheDeadlineWinsOverTheOldTimer() {
        Sandbox sandbox = service.create(spec().build());
        service.renew(sandbox.id(), T0.plus(Duration.ofHours(1)));
        clock.advance(Duration.ofMinutes(10));

        // The old deadline was replaced; even if a timer raced and fired it, the expiry re-reads the store.
        service.expireIfDue(sandbox.id());
        assertEquals(0, service.expiry().fireDue());

        assertTrue(runtime.inspect(sandbox.id()).isPresent());
        clock.advance(Duration.ofMinutes(51));
        assertEquals(1, service.expiry().fireDue());
        assertTrue(runtime.inspect(sandbox.id()).isEmpty());
    }

    @Test
    void aFailedExpiryIsRetriedThirtySecondsLater() {
        FailingRemoveRuntime flaky = new FailingRemoveRuntime(runtime);
        SandboxService withFlakyRuntime = new SandboxService(flaky, store, clock, ServicePolicy.defaults());
        Sandbox sandbox = withFlakyRuntime.create(spec().build());
        clock.advance(Duration.ofMinutes(10));
        flaky.failures.set(1);

        withFlakyRuntime.expiry().fireDue();

        assertTrue(runtime.inspect(sandbox.id()).isPresent());
        assertEquals(clock.instant().plusSeconds(30), withFlakyRuntime.expiry().deadlineOf(sandbox.id()).orElseThrow());
        clock.advance(Duration.ofSeconds(30));
        withFlakyRuntime.expiry().fireDue();
        assertTrue(runtime.inspect(sandbox.id()).isEmpty());
        assertTrue(store.find(sandbox.id()).isEmpty());
    }

    @Test
    void aRenewalSurvivesARestartOfTheService() {
        Sandbox sandbox = service.create(spec().build());
        Instant renewed = T0.plus(Duration.ofHours(3)).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
        service.renew(sandbox.id(), renewed);
        service.close();

        SandboxService restarted = new SandboxService(runtime, store, clock, ServicePolicy.defaults());
        restarted.reconcile();

        assertEquals(renewed, restarted.expiry().deadlineOf(sandbox.id()).orElseThrow());
        assertEquals(renewed, restarted.get(sandbox.id()).expiresAt());
    }

    // ------------------------------------------------------------ reconcile

    @Test
    void reconcileAdoptsSandboxesTheStoreDoesNotKnowAndArmsTheirExpiry() {
        SandboxId foreign = SandboxId.random();
        Instant labelExpiry = T0.plus(Duration.ofMinutes(30));
        runtime.create(new ProvisionRequest(foreign, spec().metadata("origin", "upstream").build(),
            ImageSpec.of("opensandbox-test/busybox:latest"), List.of("sleep", "3600"), ResourceLimits.none(), T0, labelExpiry));

        service.reconcile();

        SandboxRecord adopted = store.find(foreign).orElseThrow();
        assertEquals(labelExpiry, adopted.expiresAt());
        assertEquals(Map.of("origin", "upstream"), adopted.metadata());
        assertEquals(labelExpiry, service.expiry().deadlineOf(foreign).orElseThrow());
    }

    @Test
    void reconcileReapsAnAdoptedSandboxThatIsAlreadyOverdue() {
        SandboxId foreign = SandboxId.random();
        runtime.create(new ProvisionRequest(foreign, spec().build(), ImageSpec.of("opensandbox-test/busybox:latest"),
            List.of("sleep", "3600"), ResourceLimits.none(), T0.minusSeconds(600), T0.minusSeconds(60)));

        service.reconcile();

        assertTrue(runtime.inspect(foreign).isEmpty());
        assertTrue(store.find(foreign).isEmpty());
    }

    @Test
    void reconcileForgetsRecordsOfSandboxesThatVanished() {
        Sandbox sandbox = service.create(spec().build());
        runtime.remove(sandbox.id());

        service.reconcile();

        assertTrue(store.find(sandbox.id()).isEmpty());
        assertTrue(service.expiry().deadlineOf(sandbox.id()).isEmpty());
    }

    @Test
    void forgettingAVanishedSandboxLetsTheRuntimeRemoveWhatElseItMadeForIt() {
        List<SandboxId> removed = new java.util.concurrent.CopyOnWriteArrayList<>();
        SandboxRuntime recording = new ForwardingSandboxRuntime(runtime) {
            @Override
            public void remove(SandboxId id) {
                removed.add(id);
                super.remove(id);
            }
        };
        SandboxService withRecording = new SandboxService(recording, store, clock, ServicePolicy.defaults());
        Sandbox sandbox = withRecording.create(spec().build());
        runtime.remove(sandbox.id()); // gone behind the service's back, as after a delete cut short by a crash

        withRecording.reconcile();

        assertEquals(List.of(sandbox.id()), removed);
        assertTrue(store.find(sandbox.id()).isEmpty());
    }

    @Test
    void reconcileLetsTheRuntimeReapOrphansAndSurvivesItsFailure() {
        AtomicInteger reaps = new AtomicInteger();
        SandboxRuntime reaping = new ForwardingSandboxRuntime(runtime) {
            @Override
            public void reapOrphans() {
                reaps.incrementAndGet();
                throw new RuntimeFailureException("DOCKER::SANDBOX_QUERY_FAILED", "engine hiccup");
            }
        };
        SandboxService withReaper = new SandboxService(reaping, store, clock, ServicePolicy.defaults());
        Sandbox sandbox = withReaper.create(spec().build());
        clock.advance(Duration.ofMinutes(10));

        withReaper.reconcile();

        assertEquals(1, reaps.get());
        assertTrue(runtime.inspect(sandbox.id()).isEmpty(), "the overdue sandbox was still expired");
    }

    // ------------------------------------------------------------ metadata

    @Test
    void metadataPatchMergesDeletesAndDeletedKeysNeverComeBack() {
        Sandbox sandbox = service.create(spec().metadata(Map.of("hello", "world", "team", "a")).build());

        Map<String, String> patch = new LinkedHashMap<>();
        patch.put("team", null);
        patch.put("version", "2");
        assertEquals(Map.of("hello", "world", "version", "2"), service.patchMetadata(sandbox.id(), patch).metadata());

        Sandbox afterSecondPatch = service.patchMetadata(sandbox.id(), Map.of("env", "stage"));
        assertEquals(Map.of("hello", "world", "version", "2", "env", "stage"), afterSecondPatch.metadata());
        assertEquals(afterSecondPatch.metadata(), service.get(sandbox.id()).metadata());
        assertEquals(afterSecondPatch.metadata(), service.patchMetadata(sandbox.id(), Map.of()).metadata());
    }

    @Test
    void metadataPatchWithAReservedKeyIsRejectedWithTheUnprefixedCode() {
        Sandbox sandbox = service.create(spec().build());
        Map<String, String> patch = new HashMap<>();
        patch.put("opensandbox.io/expires-at", null);

        InvalidRequestException error = assertThrows(InvalidRequestException.class,
            () -> service.patchMetadata(sandbox.id(), patch));

        assertEquals("INVALID_METADATA_LABEL", error.code());
    }

    @Test
    void metadataPatchOfAnUnknownSandboxIsNotFound() {
        assertThrows(NotFoundException.class, () -> service.patchMetadata(SandboxId.random(), Map.of("a", "b")));
    }

    // ------------------------------------------------------------ endpoints

    @Test
    void endpointPortsOutsideTheRangeAreInvalidPort() {
        Sandbox sandbox = service.create(spec().build());
        for (int port : new int[] {0, 65536, -1}) {
            InvalidRequestException error = assertThrows(InvalidRequestException.class,
                () -> service.endpoint(sandbox.id(), port, EndpointPurpose.EXTERNAL));
            assertEquals("DOCKER::INVALID_PORT", error.code());
            assertEquals("Port must be between 1 and 65535.", error.getMessage());
        }
    }

    @Test
    void endpointOfAnUnknownSandboxIsNotFound() {
        assertThrows(NotFoundException.class, () -> service.endpoint(SandboxId.random(), 44772, EndpointPurpose.EXTERNAL));
    }

    @Test
    void aSecureAccessSandboxGetsItsTokenHeaderOnExternalEndpoints() {
        Sandbox secured = service.create(spec().secureAccess(true).build());
        Sandbox open = service.create(spec().build());

        Endpoint endpoint = service.endpoint(secured.id(), 44772, EndpointPurpose.EXTERNAL);
        String token = endpoint.headers().get(SandboxService.SECURE_ACCESS_HEADER);
        assertTrue(token != null && token.length() >= 32);
        assertEquals(Optional.of(token), service.accessToken(secured.id()));
        assertTrue(service.endpoint(open.id(), 44772, EndpointPurpose.EXTERNAL).headers().isEmpty());
    }

    @Test
    void aPolicyRequiringSecureAccessGivesEverySandboxAToken() {
        SandboxService strict = new SandboxService(runtime, store, clock, new ServicePolicy(null, List.of(), true));
        Sandbox unasked = strict.create(spec().build());

        String token = strict.endpoint(unasked.id(), 8080, EndpointPurpose.EXTERNAL).headers()
            .get(SandboxService.SECURE_ACCESS_HEADER);
        assertTrue(token != null && token.length() >= 32, "a token although the request did not ask for one");
        assertEquals(Optional.of(token), strict.accessToken(unasked.id()));
    }

    // ------------------------------------------------------------ helpers

    private static SandboxQuery query(Set<String> states, Map<String, String> metadata) {
        return new SandboxQuery(states, metadata, 1, 200);
    }

    private static List<SandboxId> ids(Page<Sandbox> page) {
        return page.items().stream().map(Sandbox::id).toList();
    }

    /** Delegates to a real runtime but fails remove() a configurable number of times. */
    private static final class FailingRemoveRuntime extends ForwardingSandboxRuntime {
        final AtomicInteger failures = new AtomicInteger();

        FailingRemoveRuntime(SandboxRuntime delegate) {
            super(delegate);
        }

        @Override
        public void remove(SandboxId id) {
            if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new RuntimeFailureException("DOCKER::SANDBOX_DELETE_FAILED", "engine unavailable");
            }
            super.remove(id);
        }
    }
}
