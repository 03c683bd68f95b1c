package dev.opensandbox.core.store;

import java.util.Objects;
import java.util.Set;

/**
 * Filters and paging for listing snapshots.
 *
 * @param sourceSandboxId exact match, or null for any
 * @param states          any of these (case-sensitive, as upstream), or empty for any
 * @param page            from 1
 * @param pageSize        1..200
 */
public record SnapshotQuery(String sourceSandboxId, Set<SnapshotState> states, long page, int pageSize) {

    public SnapshotQuery {
        states = states == null ? Set.of() : Set.copyOf(states);
        if (page < 1) {
            throw new IllegalArgumentException("page must be >= 1");
        }
        if (pageSize < 1) {
            throw new IllegalArgumentException("pageSize must be >= 1");
        }
    }

    public static SnapshotQuery all() {
        return new SnapshotQuery(null, Set.of(), 1, 200);
    }

    boolean matches(SnapshotRecord record) {
        Objects.requireNonNull(record, "record");
        return (sourceSandboxId == null || sourceSandboxId.equals(record.sourceSandboxId()))
            && (states.isEmpty() || states.contains(record.state()));
    }
}
