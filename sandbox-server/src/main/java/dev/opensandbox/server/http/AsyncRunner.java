package dev.opensandbox.server.http;

import org.slf4j.MDC;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs calls that may block on a runtime off the HTTP threads, so that a slow Docker or
 * Kubernetes call never stalls {@code /health}, listing or the proxy. On Java 21+ every call
 * gets a virtual thread; on Java 17 a bounded pool of platform threads. The request id travels
 * with the call so its log lines keep it.
 */
final class AsyncRunner implements AutoCloseable {

    private final ExecutorService executor;
    private final boolean virtualThreads;

    AsyncRunner(int platformThreads) {
        Optional<ExecutorService> virtual = ThreadPools.virtualThreads();
        this.virtualThreads = virtual.isPresent();
        this.executor = virtual.orElseGet(() -> ThreadPools.bounded("opensandbox-runtime-", platformThreads));
    }

    boolean usesVirtualThreads() {
        return virtualThreads;
    }

    <T> CompletableFuture<T> supply(Supplier<T> call) {
        Map<String, String> context = MDC.getCopyOfContextMap();
        return CompletableFuture.supplyAsync(() -> {
            Map<String, String> previous = MDC.getCopyOfContextMap();
            if (context != null) {
                MDC.setContextMap(context);
            }
            try {
                return call.get();
            } finally {
                if (previous != null) {
                    MDC.setContextMap(previous);
                } else {
                    MDC.clear();
                }
            }
        }, executor);
    }

    /** Runs a task whose result nobody waits for. */
    void execute(Runnable task) {
        executor.execute(task);
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
        }
    }
}
