package dev.opensandbox.core;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A pre-warmed pool of sandbox pods as a runtime reports it (upstream's {@code Pool} custom
 * resource on Kubernetes). The pod template is opaque to the core: it is written and read back
 * verbatim, never interpreted.
 *
 * @param name      the pool's name, unique in the runtime's scope (on Kubernetes, the namespace)
 * @param capacity  how many pods the pool keeps (upstream's {@code capacitySpec})
 * @param status    what the pool's controller last observed; null until it has reported anything
 * @param createdAt when the platform created the pool; null when it does not say
 * @param template  the pod template the pool's pods are made from, as JSON-like maps and lists
 */
public record Pool(String name, Capacity capacity, Status status, Instant createdAt, Map<String, Object> template) {

    public Pool {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(capacity, "capacity");
        // Not Map.copyOf: a pod template may hold JSON nulls.
        template = template == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(template));
    }

    /**
     * The size rules of a pool. Upstream checks only that each value is at least 0 (see
     * {@link dev.opensandbox.core.service.PoolService}); how the values relate is the controller's
     * business.
     *
     * @param bufferMax most idle pods kept ready
     * @param bufferMin fewest idle pods kept ready
     * @param poolMax   most pods in the pool, allocated ones included
     * @param poolMin   fewest pods in the pool
     */
    public record Capacity(int bufferMax, int bufferMin, int poolMax, int poolMin) {
    }

    /**
     * Pod counts reported by the pool's controller.
     *
     * @param total     every pod of the pool
     * @param allocated pods handed to sandboxes
     * @param available ready pods not allocated
     * @param revision  the template revision the controller works towards ({@code ""} when unknown)
     */
    public record Status(int total, int allocated, int available, String revision) {

        public Status {
            revision = revision == null ? "" : revision;
        }
    }
}
