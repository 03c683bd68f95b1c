package dev.opensandbox.it;

import dev.opensandbox.core.store.SandboxStore;
import dev.opensandbox.server.store.JdbcSandboxStore;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The store contract against the JDBC store on SQLite, durability included: reopen closes and reopens the file. */
class JdbcStoreContractTest extends SandboxStoreContractKit {

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("store/opensandbox.db");
    }

    @Override
    protected SandboxStore createStore() {
        return JdbcSandboxStore.openSqlite(file());
    }

    @Override
    protected SandboxStore reopen(SandboxStore store) {
        store.close();
        return JdbcSandboxStore.openSqlite(file());
    }
}
