package dev.opensandbox.runtime.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * An informer of one kind of object: LIST, then WATCH from the list's resourceVersion, objects
 * kept by a key (the sandbox id label), and listeners told of every version they see.
 *
 * <p>It does not trust a watch to stay healthy (upstream's informer sat on a stuck watch for
 * hours and every create timed out): each watch is closed by the client after
 * {@code watchTimeout} whether or not the server ended it, and re-opened from the last
 * resourceVersion seen; every {@code resyncPeriod}, and after any watch failure, the cache
 * relists everything, which recovers any event a watch lost. All of this runs on one scheduler
 * thread, so list and watch restarts never overlap; events of a watch that was replaced are
 * ignored.
 *
 * <p>Writes are applied at once by the caller ({@link #upsert}, {@link #evict}) so that a read
 * right after a create, patch or delete sees it. An evicted object stays hidden (by uid) until
 * its DELETED event or a relist without it, so that a late MODIFIED event cannot bring it back.
 */
final class WatchCache<T extends HasMetadata> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WatchCache.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** Where the objects come from: the label-filtered collection in the namespace. */
    interface Source<T> {
        Listing<T> list();

        Watch watch(String resourceVersion, Duration timeout, Watcher<T> watcher);
    }

    record Listing<T>(List<T> items, String resourceVersion) {
    }

    /** Ends a {@link #subscribe} registration. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    private final String kind;
    private final Source<T> source;
    private final Function<T, String> keyOf;
    private final Predicate<T> accepts;
    private final Duration watchTimeout;
    private final Duration resyncPeriod;
    private final ScheduledExecutorService scheduler;

    private final Map<String, T> items = new HashMap<>();
    /** Keys evicted by a delete of ours, with the uid that must stay hidden. */
    private final Map<String, String> tombstones = new HashMap<>();
    private final Map<String, List<Consumer<T>>> listeners = new ConcurrentHashMap<>();
    private final CountDownLatch firstSync = new CountDownLatch(1);

    private volatile boolean synced;
    private volatile boolean closed;
    /** Only touched on the scheduler thread. */
    private Watch watch;
    private volatile long watchGeneration;
    private volatile String lastResourceVersion;
    private Duration backoff = Duration.ofSeconds(1);

    /**
     * @param accepts which objects of the source belong in the cache (this deployment's); a version
     *                that is no longer accepted removes the object, as a label selector's watch would
     */
    WatchCache(String kind, Source<T> source, Function<T, String> keyOf, Predicate<T> accepts, Duration watchTimeout,
               Duration resyncPeriod, ScheduledExecutorService scheduler) {
        this.kind = kind;
        this.source = source;
        this.keyOf = keyOf;
        this.accepts = accepts;
        this.watchTimeout = watchTimeout;
        this.resyncPeriod = resyncPeriod;
        this.scheduler = scheduler;
    }

    /** Lists in the background and keeps watching; returns at once. */
    void start() {
        scheduler.execute(this::relist);
        scheduler.scheduleWithFixedDelay(this::relist, resyncPeriod.toMillis(), resyncPeriod.toMillis(),
            TimeUnit.MILLISECONDS);
    }

    /** Whether a list has succeeded and no watch failure is pending since. */
    boolean synced() {
        return synced;
    }

    /** Waits for the first successful list; true when it happened within {@code timeout}. */
    boolean awaitFirstSync(Duration timeout) throws InterruptedException {
        return firstSync.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    synchronized Optional<T> get(String key) {
        return Optional.ofNullable(items.get(key));
    }

    synchronized List<T> all() {
        return new ArrayList<>(items.values());
    }

    /** Applies a version the caller got from a write (create or patch response). */
    void upsert(T object) {
        apply(Watcher.Action.MODIFIED, object, false);
    }

    /** Forgets an object the caller deleted. */
    void evict(String key) {
        T removed;
        synchronized (this) {
            removed = items.remove(key);
            if (removed != null && removed.getMetadata().getUid() != null) {
                tombstones.put(key, removed.getMetadata().getUid());
            }
        }
        if (removed != null) {
            notifyListeners(key, null);
        }
    }

    /**
     * Registers {@code listener} for every version of the object with {@code key} this cache
     * sees from now on ({@code null} when it is deleted). Called on the thread that applied the
     * change; it must return quickly.
     */
    Subscription subscribe(String key, Consumer<T> listener) {
        listeners.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(listener);
        return () -> listeners.computeIfPresent(key, (k, list) -> {
            list.remove(listener);
            return list.isEmpty() ? null : list;
        });
    }

    @Override
    public void close() {
        closed = true;
        scheduler.execute(this::closeWatch);
    }

    // ---------------------------------------------------------------- on the scheduler thread

    private void relist() {
        if (closed) {
            return;
        }
        closeWatch();
        Listing<T> listing;
        try {
            listing = source.list();
        } catch (RuntimeException e) {
            synced = false;
            LOG.warn("kind={} action=list error={} retryIn={}", kind, KubernetesErrors.describe(e), backoff);
            retryAfterBackoff();
            return;
        }
        List<Map.Entry<String, T>> changed = new ArrayList<>();
        synchronized (this) {
            Map<String, T> fresh = new HashMap<>();
            for (T item : listing.items()) {
                String key = keyOf.apply(item);
                if (key != null && accepts.test(item) && !isTombstoned(key, item)) {
                    fresh.put(key, item);
                }
            }
            Set<String> gone = new HashSet<>(items.keySet());
            gone.removeAll(fresh.keySet());
            for (String key : gone) {
                // Written through after this list was taken (a create racing the relist): keep it.
                if (!isNewerThan(items.get(key), listing.resourceVersion())) {
                    items.remove(key);
                    changed.add(new AbstractMap.SimpleEntry<>(key, null));
                }
            }
            for (Map.Entry<String, T> entry : fresh.entrySet()) {
                T previous = items.get(entry.getKey());
                if (previous == null || isNotOlder(entry.getValue(), previous) && !same(previous, entry.getValue())) {
                    items.put(entry.getKey(), entry.getValue());
                    changed.add(entry);
                }
            }
            tombstones.keySet().removeIf(key -> listing.items().stream().noneMatch(item -> key.equals(keyOf.apply(item))));
        }
        lastResourceVersion = listing.resourceVersion();
        backoff = Duration.ofSeconds(1);
        synced = true;
        firstSync.countDown();
        changed.forEach(entry -> notifyListeners(entry.getKey(), entry.getValue()));
        openWatch();
    }

    private void openWatch() {
        if (closed) {
            return;
        }
        long generation = ++watchGeneration;
        try {
            watch = source.watch(lastResourceVersion, watchTimeout, new CacheWatcher(generation));
        } catch (RuntimeException e) {
            synced = false;
            LOG.warn("kind={} action=watch error={} retryIn={}", kind, KubernetesErrors.describe(e), backoff);
            retryAfterBackoff();
            return;
        }
        // The client-side timeout: a watch that the server never ends, or that silently stopped
        // delivering, is replaced anyway.
        scheduler.schedule(() -> {
            if (watchGeneration == generation && !closed) {
                LOG.debug("kind={} action=watch-restart after={}", kind, watchTimeout);
                closeWatch();
                openWatch();
            }
        }, watchTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void closeWatch() {
        watchGeneration++;
        if (watch != null) {
            try {
                watch.close();
            } catch (RuntimeException e) {
                LOG.debug("kind={} action=watch-close error={}", kind, e.toString());
            }
            watch = null;
        }
    }

    private void retryAfterBackoff() {
        Duration delay = backoff;
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        if (!closed) {
            scheduler.schedule(this::relist, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    // ---------------------------------------------------------------- applying changes

    private void apply(Watcher.Action action, T object, boolean fromWatch) {
        String key = keyOf.apply(object);
        if (key == null) {
            return;
        }
        // A version this cache no longer accepts leaves it, as it would leave a label selector's watch.
        boolean removal = action == Watcher.Action.DELETED || !accepts.test(object);
        boolean changed;
        synchronized (this) {
            if (removal) {
                String uid = object.getMetadata().getUid();
                if (uid != null && uid.equals(tombstones.get(key))) {
                    tombstones.remove(key);
                }
                T current = items.get(key);
                changed = current != null && sameUid(current, object);
                if (changed) {
                    items.remove(key);
                }
            } else {
                T current = items.get(key);
                changed = !isTombstoned(key, object) && (current == null || isNotOlder(object, current));
                if (changed) {
                    items.put(key, object);
                }
            }
        }
        if (fromWatch && object.getMetadata().getResourceVersion() != null) {
            lastResourceVersion = object.getMetadata().getResourceVersion();
        }
        if (changed) {
            notifyListeners(key, removal ? null : object);
        }
    }

    private boolean isTombstoned(String key, T object) {
        String hidden = tombstones.get(key);
        return hidden != null && hidden.equals(object.getMetadata().getUid());
    }

    /**
     * Guards against a late event overwriting a newer write-through. resourceVersions are opaque
     * to clients; when both parse as numbers (etcd's) they are compared, otherwise the incoming
     * version wins.
     */
    private static boolean isNotOlder(HasMetadata incoming, HasMetadata current) {
        if (!sameUid(incoming, current)) {
            return true;
        }
        try {
            return Long.parseLong(incoming.getMetadata().getResourceVersion())
                >= Long.parseLong(current.getMetadata().getResourceVersion());
        } catch (NumberFormatException | NullPointerException e) {
            return true;
        }
    }

    private static boolean isNewerThan(HasMetadata object, String listResourceVersion) {
        try {
            return Long.parseLong(object.getMetadata().getResourceVersion()) > Long.parseLong(listResourceVersion);
        } catch (NumberFormatException | NullPointerException e) {
            return false;
        }
    }

    private static boolean sameUid(HasMetadata a, HasMetadata b) {
        String uid = a.getMetadata().getUid();
        return uid == null || uid.equals(b.getMetadata().getUid());
    }

    private static boolean same(HasMetadata a, HasMetadata b) {
        String rv = a.getMetadata().getResourceVersion();
        return rv != null && rv.equals(b.getMetadata().getResourceVersion()) && sameUid(a, b);
    }

    private void notifyListeners(String key, T object) {
        List<Consumer<T>> subscribed = listeners.get(key);
        if (subscribed == null) {
            return;
        }
        for (Consumer<T> listener : subscribed) {
            try {
                listener.accept(object);
            } catch (RuntimeException e) {
                LOG.warn("kind={} key={} action=notify error={}", kind, key, e.toString());
            }
        }
    }

    private final class CacheWatcher implements Watcher<T> {
        private final long generation;

        CacheWatcher(long generation) {
            this.generation = generation;
        }

        @Override
        public void eventReceived(Action action, T resource) {
            if (generation != watchGeneration || closed) {
                return;
            }
            if (action == Action.ERROR) {
                scheduler.execute(WatchCache.this::relist);
                return;
            }
            if (action == Action.BOOKMARK) {
                lastResourceVersion = resource.getMetadata().getResourceVersion();
                return;
            }
            apply(action, resource, true);
        }

        @Override
        public void onClose(WatcherException cause) {
            if (generation != watchGeneration || closed) {
                return;
            }
            // 410 Gone (our resourceVersion is too old) or a broken connection: start over with a list.
            LOG.info("kind={} action=watch-closed gone={} error={}", kind, cause.isHttpGone(), cause.getMessage());
            synced = false;
            scheduler.execute(WatchCache.this::relist);
        }

        @Override
        public void onClose() {
            if (generation != watchGeneration || closed) {
                return;
            }
            scheduler.execute(() -> {
                if (generation == watchGeneration) {
                    closeWatch();
                    openWatch();
                }
            });
        }
    }
}
