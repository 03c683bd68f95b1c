package dev.opensandbox.server.http;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java 17 pool of runtime calls grows with the calls running at once, not with the calls made. */
class ThreadPoolsTest {

    @Test
    void callsOneAfterAnotherReuseOneThread() throws Exception {
        ExecutorService pool = ThreadPools.bounded("test-", 200);
        try {
            for (int i = 0; i < 500; i++) {
                pool.submit(() -> { }).get(5, TimeUnit.SECONDS);
            }
            // A plain fixed pool of 200 holds 200 threads by now; this one a handful at most
            // (a task can come in while the previous thread is between tasks).
            int threads = ((ThreadPoolExecutor) pool).getLargestPoolSize();
            assertTrue(threads <= 4, threads + " threads for 500 calls made one at a time");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void atMostTheBoundRunAtOnceAndTheRestWaitInsteadOfBeingRefused() throws Exception {
        ExecutorService pool = ThreadPools.bounded("test-", 8);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch boundReached = new CountDownLatch(8);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostRunning = new AtomicInteger();
        List<Future<?>> tasks = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                tasks.add(pool.submit(() -> {
                    mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                    boundReached.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    running.decrementAndGet();
                }));
            }
            assertEquals(8, ((ThreadPoolExecutor) pool).getPoolSize(), pool.toString());
            assertTrue(boundReached.await(10, TimeUnit.SECONDS), "eight tasks run at once");
            release.countDown();
            for (Future<?> task : tasks) {
                task.get(10, TimeUnit.SECONDS);
            }
            assertEquals(8, mostRunning.get());
        } finally {
            pool.shutdownNow();
        }
    }
}
