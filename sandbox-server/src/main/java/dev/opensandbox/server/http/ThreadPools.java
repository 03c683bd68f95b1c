package dev.opensandbox.server.http;

import java.lang.reflect.Method;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** The server's executors: virtual threads on Java 21+, found by reflection because the build targets 17. */
final class ThreadPools {

    private ThreadPools() {
    }

    /** A virtual-thread-per-task executor, or empty on a Java without virtual threads. */
    static Optional<ExecutorService> virtualThreads() {
        try {
            Method factory = Executors.class.getMethod("newVirtualThreadPerTaskExecutor");
            return Optional.of((ExecutorService) factory.invoke(null));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Virtual threads, else an unbounded cached pool of daemon threads named {@code prefix<n>}. */
    static ExecutorService virtualOrCached(String prefix) {
        return virtualThreads().orElseGet(() -> {
            AtomicInteger counter = new AtomicInteger();
            return Executors.newCachedThreadPool(runnable -> {
                Thread thread = new Thread(runnable, prefix + counter.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
        });
    }
}
