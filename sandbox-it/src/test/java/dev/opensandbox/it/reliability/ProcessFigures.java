package dev.opensandbox.it.reliability;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What this JVM holds — where the in-process server runs: heap after a full GC, live threads and
 * open file descriptors.
 */
public final class ProcessFigures {

    private ProcessFigures() {
    }

    /** One measurement. */
    public record Figures(long heapBytes, int threads, long openFiles) {
        public String heapMb() {
            return String.format("%.1f MB", heapBytes / 1_048_576.0);
        }
    }

    public static Figures measure() {
        return new Figures(heapAfterFullGc(), threads(), openFiles());
    }

    /** The least used heap seen over several {@code System.gc()} tries (one GC may leave garbage behind). */
    public static long heapAfterFullGc() {
        long least = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 5; attempt++) {
            System.gc();
            ReliabilityRun.sleep(150);
            least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return least;
    }

    public static int threads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    /** Entries of {@code /proc/self/fd}; -1 where there is no such directory. */
    public static long openFiles() {
        Path fds = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fds)) {
            return -1;
        }
        try (Stream<Path> entries = Files.list(fds)) {
            return entries.count();
        } catch (IOException e) {
            return -1;
        }
    }
}
