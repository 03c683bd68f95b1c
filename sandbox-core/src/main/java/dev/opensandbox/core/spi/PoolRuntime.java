package dev.opensandbox.core.spi;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Pool;

import java.util.List;
import java.util.Map;

/**
 * Management of pre-warmed pools, for runtimes whose platform keeps them (Kubernetes: upstream's
 * {@code Pool} custom resources, filled by the OpenSandbox controller). Offered through
 * {@link SandboxRuntime#pools()}; the core validates every request before calling (see
 * {@link dev.opensandbox.core.service.PoolService}), so implementations only map to their platform.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Thread-safe; every call blocks until the platform answered, bounded by the runtime's own
 *       timeouts. No call waits for pods: the controller fills and drains pools on its own.</li>
 *   <li>An unknown pool is reported by {@link #poolNotFound(String)} (404 {@code KUBERNETES::POOL_NOT_FOUND}),
 *       a name in use by {@link ConflictException} with {@link ErrorCodes#POOL_ALREADY_EXISTS} (409), every
 *       other platform failure by a {@link dev.opensandbox.core.RuntimeFailureException} with
 *       {@link ErrorCodes#POOL_API_ERROR} (500). The codes are upstream's on every runtime.</li>
 *   <li>Nothing is cached: each read sees the platform's current state, status included.</li>
 * </ul>
 */
public interface PoolRuntime {

    /**
     * Creates a pool. Not idempotent.
     *
     * @param template the pod template, stored verbatim
     * @return the pool as the platform now reports it (normally without a status yet)
     * @throws ConflictException when a pool of that name exists
     */
    Pool create(String name, Map<String, Object> template, Pool.Capacity capacity);

    /**
     * Reads one pool.
     *
     * @throws NotFoundException when there is no pool of that name
     */
    Pool get(String name);

    /**
     * Every pool in the runtime's scope, in the platform's order. Empty, not an error, when the
     * platform does not know pools at all (the Pool CRD is not installed).
     */
    List<Pool> list();

    /**
     * Replaces the capacity of a pool, all four values at once; the template is never changed.
     *
     * @return the pool after the change
     * @throws NotFoundException when there is no pool of that name
     */
    Pool updateCapacity(String name, Pool.Capacity capacity);

    /**
     * Deletes a pool; its pods go with it. Not idempotent, as upstream: deleting an unknown pool
     * is an error.
     *
     * @throws NotFoundException when there is no pool of that name
     */
    void delete(String name);

    /** The error for an unknown pool, in upstream's words. */
    static NotFoundException poolNotFound(String name) {
        return new NotFoundException(ErrorCodes.POOL_NOT_FOUND, "Pool '" + name + "' not found.");
    }

    /** The error for a name already in use. */
    static ConflictException poolAlreadyExists(String name) {
        return new ConflictException(ErrorCodes.POOL_ALREADY_EXISTS, "Pool '" + name + "' already exists.");
    }
}
