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

    /**
     * Platform threads named {@code prefix<n>}, at most {@code max} of them, created only when no
     * thread is idle and torn down after a minute without work; beyond {@code max} running, tasks
     * wait in order. A plain fixed pool starts a new thread for every task until it holds
     * {@code max} of them even when one is idle, so a server answering one request at a time ends
     * up with {@code max} threads.
     */
    static ExecutorService bounded(String prefix, int max) {
        HandOffQueue queue = new HandOffQueue();
        AtomicInteger counter = new AtomicInteger();
        java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(0, max, 60,
            java.util.concurrent.TimeUnit.SECONDS, queue, runnable -> {
                Thread thread = new Thread(runnable, prefix + counter.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            }, (task, executor) -> {
                // Lost the race for the last free slot: wait in line like any task beyond the bound.
                if (executor.isShutdown()) {
                    throw new java.util.concurrent.RejectedExecutionException("the pool is shut down");
                }
                queue.enqueue(task);
            });
        queue.pool = pool;
        return pool;
    }

    /**
     * Gives a task to an idle thread when one waits; else refuses it while the pool may still grow,
     * so that the pool starts a thread; else keeps it for the next thread that is free.
     */
    private static final class HandOffQueue extends java.util.concurrent.LinkedTransferQueue<Runnable> {
        private volatile java.util.concurrent.ThreadPoolExecutor pool;

        @Override
        public boolean offer(Runnable task) {
            if (tryTransfer(task)) {
                return true;
            }
            if (pool.getPoolSize() < pool.getMaximumPoolSize()) {
                return false;
            }
            return super.offer(task);
        }

        void enqueue(Runnable task) {
            super.offer(task);
        }
    }
}
