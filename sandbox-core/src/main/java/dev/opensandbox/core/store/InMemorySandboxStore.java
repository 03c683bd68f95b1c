package dev.opensandbox.core.store;

import dev.opensandbox.core.Page;
import dev.opensandbox.core.SandboxId;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link SandboxStore} in memory: for tests, demos and embedders who do not need records to
 * survive a restart. Thread-safe; every write is a single atomic map operation.
 */
public final class InMemorySandboxStore implements SandboxStore {

    private static final Comparator<SnapshotRecord> NEWEST_FIRST = Comparator
        .comparing(SnapshotRecord::createdAt).reversed()
        .thenComparing(Comparator.comparing(SnapshotRecord::id).reversed());

    private final Map<SandboxId, SandboxRecord> sandboxes = new ConcurrentHashMap<>();
    private final Map<String, SnapshotRecord> snapshots = new ConcurrentHashMap<>();

    @Override
    public boolean insert(SandboxRecord record) {
        return sandboxes.putIfAbsent(record.id(), record) == null;
    }

    @Override
    public Optional<SandboxRecord> find(SandboxId id) {
        return Optional.ofNullable(sandboxes.get(id));
    }

    @Override
    public List<SandboxRecord> findAll() {
        return List.copyOf(sandboxes.values());
    }

    @Override
    public Optional<SandboxRecord> replace(long expectedVersion, SandboxRecord replacement) {
        AtomicReference<SandboxRecord> stored = new AtomicReference<>();
        sandboxes.computeIfPresent(replacement.id(), (id, current) -> {
            if (current.version() != expectedVersion) {
                return current;
            }
            SandboxRecord next = replacement.withVersion(expectedVersion + 1);
            stored.set(next);
            return next;
        });
        return Optional.ofNullable(stored.get());
    }

    @Override
    public boolean delete(SandboxId id) {
        return sandboxes.remove(id) != null;
    }

    @Override
    public boolean insertSnapshot(SnapshotRecord record) {
        return snapshots.putIfAbsent(record.id(), record) == null;
    }

    @Override
    public Optional<SnapshotRecord> findSnapshot(String id) {
        return Optional.ofNullable(snapshots.get(id));
    }

    @Override
    public Page<SnapshotRecord> listSnapshots(SnapshotQuery query) {
        List<SnapshotRecord> matching = new ArrayList<>();
        for (SnapshotRecord record : snapshots.values()) {
            if (query.matches(record)) {
                matching.add(record);
            }
        }
        matching.sort(NEWEST_FIRST);
        return Page.of(matching, query.page(), query.pageSize());
    }

    @Override
    public List<SnapshotRecord> findSnapshotsInStates(Collection<SnapshotState> states) {
        List<SnapshotRecord> matching = new ArrayList<>();
        for (SnapshotRecord record : snapshots.values()) {
            if (states.contains(record.state())) {
                matching.add(record);
            }
        }
        matching.sort(Comparator.comparing(SnapshotRecord::createdAt).thenComparing(SnapshotRecord::id));
        return matching;
    }

    @Override
    public boolean replaceSnapshotIfState(SnapshotState expectedState, SnapshotRecord replacement) {
        AtomicReference<Boolean> replaced = new AtomicReference<>(false);
        snapshots.computeIfPresent(replacement.id(), (id, current) -> {
            if (current.state() != expectedState) {
                return current;
            }
            replaced.set(true);
            return replacement;
        });
        return replaced.get();
    }

    @Override
    public boolean deleteSnapshot(String id) {
        return snapshots.remove(id) != null;
    }
}
