package dev.opensandbox.core.service;

import dev.opensandbox.core.SandboxId;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One lock per sandbox, so that create, renew, expire and delete of one sandbox never
 * interleave (a renew can never lose to an expiry timer), while different sandboxes proceed in
 * parallel. Entries are reference-counted and dropped when unused, so memory follows the number
 * of sandboxes being worked on, not the number ever seen.
 */
final class SandboxLocks {

    private static final class Entry {
        final ReentrantLock lock = new ReentrantLock();
        int users;
    }

    private final Map<SandboxId, Entry> entries = new HashMap<>();

    <T> T withLock(SandboxId id, Supplier<T> action) {
        Entry entry;
        synchronized (this) {
            entry = entries.computeIfAbsent(id, key -> new Entry());
            entry.users++;
        }
        entry.lock.lock();
        try {
            return action.get();
        } finally {
            entry.lock.unlock();
            synchronized (this) {
                if (--entry.users == 0) {
                    entries.remove(id);
                }
            }
        }
    }

    /**
     * Runs {@code action} under the sandbox's lock only if no one holds it now: background passes
     * (reconcile) use it to leave sandboxes with an operation in flight alone rather than wait for it.
     *
     * @return whether the action ran
     */
    boolean tryWithLock(SandboxId id, Runnable action) {
        Entry entry;
        synchronized (this) {
            entry = entries.computeIfAbsent(id, key -> new Entry());
            entry.users++;
        }
        boolean locked = entry.lock.tryLock();
        try {
            if (locked) {
                action.run();
            }
            return locked;
        } finally {
            if (locked) {
                entry.lock.unlock();
            }
            synchronized (this) {
                if (--entry.users == 0) {
                    entries.remove(id);
                }
            }
        }
    }

    void withLock(SandboxId id, Runnable action) {
        withLock(id, () -> {
            action.run();
            return null;
        });
    }

    synchronized int size() {
        return entries.size();
    }
}
