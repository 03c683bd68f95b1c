package dev.opensandbox.it;

import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.store.SandboxStore;

/** The store contract against the in-memory store; the durability test is skipped by design. */
class InMemoryStoreContractTest extends SandboxStoreContractKit {

    @Override
    protected SandboxStore createStore() {
        return new InMemorySandboxStore();
    }
}
