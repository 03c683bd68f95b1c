package dev.opensandbox.it.reliability;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What every reliability suite shares: a run id that every sandbox of the test carries as the
 * metadata (so container label) {@code reliability-run}, a volume name prefix of its own, a
 * directory for the server's configuration, database and logs (kept when the test fails), and the
 * removal of everything of the run after each test, whatever the server left.
 */
public abstract class ReliabilityRun {

    public static final String RUN_KEY = "reliability-run";

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    protected Path dir;

    protected final String run = UUID.randomUUID().toString();
    /** Every volume the test names starts with this. */
    protected final String volumePrefix = "rel-" + run.substring(0, 8) + "-";
    /** Every sandbox id the test learned, so that its sidecars (labelled with the id only) can be found and removed. */
    protected final Set<String> seenIds = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void requireEngine() {
        assumeTrue(Engine.available(), "no Docker engine reachable: `docker info` failed");
    }

    /** Stops the server the test started, if any; called before what is left is removed. */
    protected abstract void stopServer();

    @AfterEach
    void removeWhatIsLeft() {
        try {
            stopServer();
        } finally {
            Engine.removeAll(RUN_KEY, run, seenIds, volumePrefix);
        }
    }

    /** A sleep in a test that waits for real time to pass (expiries, kill points, pools going idle). */
    public static void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
