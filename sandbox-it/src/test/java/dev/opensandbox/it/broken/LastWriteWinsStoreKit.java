package dev.opensandbox.it.broken;

import dev.opensandbox.core.Page;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.store.SandboxRecord;
import dev.opensandbox.core.store.SandboxStore;
import dev.opensandbox.core.store.SnapshotQuery;
import dev.opensandbox.core.store.SnapshotRecord;
import dev.opensandbox.core.store.SnapshotState;
import dev.opensandbox.it.SandboxStoreContractKit;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The store contract kit against a store whose replace ignores the expected version (last write
 * wins), the bug that lets an expiry overwrite a renewal. Not named {@code *Test}: only
 * {@code StoreKitCatchesBrokenStoreTest} runs it.
 */
public class LastWriteWinsStoreKit extends SandboxStoreContractKit {

    @Override
    protected SandboxStore createStore() {
        return new LastWriteWinsStore();
    }

    private static final class LastWriteWinsStore implements SandboxStore {
        private final InMemorySandboxStore delegate = new InMemorySandboxStore();

        @Override
        public Optional<SandboxRecord> replace(long expectedVersion, SandboxRecord replacement) {
            return delegate.find(replacement.id())
                .flatMap(current -> delegate.replace(current.version(), replacement));
        }

        @Override
        public boolean insert(SandboxRecord record) {
            return delegate.insert(record);
        }

        @Override
        public Optional<SandboxRecord> find(SandboxId id) {
            return delegate.find(id);
        }

        @Override
        public List<SandboxRecord> findAll() {
            return delegate.findAll();
        }

        @Override
        public boolean delete(SandboxId id) {
            return delegate.delete(id);
        }

        @Override
        public boolean insertSnapshot(SnapshotRecord record) {
            return delegate.insertSnapshot(record);
        }

        @Override
        public Optional<SnapshotRecord> findSnapshot(String id) {
            return delegate.findSnapshot(id);
        }

        @Override
        public Page<SnapshotRecord> listSnapshots(SnapshotQuery query) {
            return delegate.listSnapshots(query);
        }

        @Override
        public List<SnapshotRecord> findSnapshotsInStates(Collection<SnapshotState> states) {
            return delegate.findSnapshotsInStates(states);
        }

        @Override
        public boolean replaceSnapshotIfState(SnapshotState expectedState, SnapshotRecord replacement) {
            return delegate.replaceSnapshotIfState(expectedState, replacement);
        }

        @Override
        public boolean deleteSnapshot(String id) {
            return delegate.deleteSnapshot(id);
        }
    }
}
