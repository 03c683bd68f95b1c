package dev.opensandbox.it;

import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.it.broken.BrokenRuntimeKits.BrokenRemoveRuntimeKit;
import dev.opensandbox.it.broken.BrokenRuntimeKits.LeakingListRuntimeKit;
import dev.opensandbox.it.broken.BrokenRuntimeKits.ThrowingInspectRuntimeKit;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Proves that the runtime compatibility kit catches broken runtimes: each broken runtime in
 * {@link dev.opensandbox.it.broken.BrokenRuntimeKits} fails exactly the kit tests of the
 * contract it breaks, and passes the others.
 */
class RuntimeKitCatchesBrokenRuntimeTest {

    private static final String REMOVE_UNKNOWN = "remove of an unknown id succeeds";
    private static final String REMOVE_TWICE = "remove twice succeeds";
    private static final String AFTER_REMOVE = "after remove, inspect is empty and list no longer contains the sandbox";
    private static final String INSPECT_UNKNOWN = "an unknown sandbox inspect is empty, not an error";
    private static final String LIST_ONLY_MANAGED = "list returns only managed sandboxes";
    private static final String CREATE_RUNNING = "create returns once started and inspect then shows Running";

    @Test
    void removeThatRejectsUnknownIdsFailsTheIdempotentRemoveTests() {
        Events tests = run(BrokenRemoveRuntimeKit.class);

        assertEquals(Set.of(REMOVE_UNKNOWN, REMOVE_TWICE), names(tests.failed()), "failed kit tests");
        assertTrue(names(tests.succeeded()).containsAll(Set.of(CREATE_RUNNING, AFTER_REMOVE, LIST_ONLY_MANAGED)),
            "unrelated kit tests still pass: " + names(tests.succeeded()));
    }

    @Test
    void listThatLeaksUnmanagedWorkloadsFailsTheManagedOnlyTest() {
        Events tests = run(LeakingListRuntimeKit.class);

        assertEquals(Set.of(LIST_ONLY_MANAGED), names(tests.failed()), "failed kit tests");
        assertTrue(names(tests.succeeded()).containsAll(Set.of(CREATE_RUNNING, AFTER_REMOVE, REMOVE_TWICE)),
            "unrelated kit tests still pass: " + names(tests.succeeded()));
    }

    @Test
    void inspectThatThrowsForUnknownIdsFailsEveryTestThatInspectsAMissingSandbox() {
        Events tests = run(ThrowingInspectRuntimeKit.class);

        assertEquals(Set.of(INSPECT_UNKNOWN, REMOVE_UNKNOWN, REMOVE_TWICE, AFTER_REMOVE), names(tests.failed()),
            "failed kit tests");
        assertTrue(names(tests.succeeded()).containsAll(Set.of(CREATE_RUNNING, LIST_ONLY_MANAGED)),
            "unrelated kit tests still pass: " + names(tests.succeeded()));
    }

    @Test
    void brokenRemoveFailsWithTheRuntimesOwnNotFoundError() {
        Events tests = run(BrokenRemoveRuntimeKit.class);

        Event removeUnknown = tests.failed().stream()
            .filter(event -> event.getTestDescriptor().getDisplayName().equals(REMOVE_UNKNOWN))
            .findFirst().orElseThrow(() -> new AssertionError("no failure of " + REMOVE_UNKNOWN));
        Throwable cause = removeUnknown.getPayload(TestExecutionResult.class)
            .flatMap(TestExecutionResult::getThrowable)
            .orElseThrow(() -> new AssertionError("failure without a throwable"));
        assertEquals(NotFoundException.class, cause.getClass(), "the runtime's own error surfaces");
    }

    private static Events run(Class<?> kit) {
        return EngineTestKit.engine("junit-jupiter")
            .selectors(selectClass(kit))
            .execute()
            .testEvents();
    }

    private static Set<String> names(Events events) {
        return events.stream()
            .map(event -> event.getTestDescriptor().getDisplayName())
            .collect(Collectors.toCollection(TreeSet::new));
    }
}
