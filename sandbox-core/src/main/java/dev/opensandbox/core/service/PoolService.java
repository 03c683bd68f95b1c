package dev.opensandbox.core.service;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.MalformedRequestException;
import dev.opensandbox.core.Pool;
import dev.opensandbox.core.UnsupportedCapabilityException;
import dev.opensandbox.core.spi.PoolRuntime;
import dev.opensandbox.core.spi.SandboxRuntime;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The pool use cases: upstream's request rules, then the runtime's {@link PoolRuntime}. On a
 * runtime without pools every call fails with 501 {@code KUBERNETES::POOL_NOT_SUPPORTED} and
 * upstream's message.
 *
 * <p>Rules, as upstream's request models (violations are 422): the name matches
 * {@value #NAME_PATTERN} and has at most {@value #MAX_NAME_LENGTH} characters; the template is
 * required (any object); each capacity value is at least 0. Upstream does not relate the capacity
 * values to each other (a {@code bufferMin} above {@code bufferMax} is the controller's to
 * resolve), and neither does this service.
 */
public final class PoolService {

    /** Upstream's pattern for pool names: a DNS-1123 label's characters. */
    public static final String NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    public static final int MAX_NAME_LENGTH = 253;
    static final String NOT_SUPPORTED_MESSAGE = "Pool management is only available when runtime.type is 'kubernetes'.";

    private static final Pattern NAME = Pattern.compile(NAME_PATTERN);

    private final Optional<PoolRuntime> pools;

    public PoolService(SandboxRuntime runtime) {
        this.pools = Objects.requireNonNull(runtime, "runtime").pools();
    }

    /** Whether the runtime manages pools; when false every other method throws 501. */
    public boolean supported() {
        return pools.isPresent();
    }

    /**
     * Creates a pool.
     *
     * @throws MalformedRequestException when the name, template or capacity breaks the rules
     */
    public Pool create(String name, Map<String, Object> template, Pool.Capacity capacity) {
        PoolRuntime runtime = runtime();
        if (name == null) {
            throw malformed("name is required.");
        }
        if (!validName(name)) {
            throw malformed("name '" + name + "' is invalid: must be at most " + MAX_NAME_LENGTH
                + " characters and match " + NAME_PATTERN + ".");
        }
        if (template == null) {
            throw malformed("template is required.");
        }
        validate(capacity);
        return runtime.create(name, template, capacity);
    }

    /** Every pool of the runtime (no pagination, as upstream). */
    public List<Pool> list() {
        return runtime().list();
    }

    /** One pool; a name that no pool can have is simply not found. */
    public Pool get(String name) {
        PoolRuntime runtime = runtime();
        return runtime.get(existingName(name));
    }

    /** Replaces the capacity of a pool. */
    public Pool updateCapacity(String name, Pool.Capacity capacity) {
        PoolRuntime runtime = runtime();
        validate(capacity);
        return runtime.updateCapacity(existingName(name), capacity);
    }

    /** Deletes a pool; an unknown one is not found (upstream's 404), not a success. */
    public void delete(String name) {
        PoolRuntime runtime = runtime();
        runtime.delete(existingName(name));
    }

    /** Whether {@code name} may name a pool. */
    public static boolean validName(String name) {
        return name != null && name.length() <= MAX_NAME_LENGTH && NAME.matcher(name).matches();
    }

    /**
     * Fails unless the runtime manages pools, for callers that check before reading a request.
     *
     * @throws UnsupportedCapabilityException 501 {@code KUBERNETES::POOL_NOT_SUPPORTED}
     */
    public void requireSupported() {
        runtime();
    }

    private PoolRuntime runtime() {
        return pools.orElseThrow(() -> new UnsupportedCapabilityException(ErrorCodes.POOL_NOT_SUPPORTED,
            NOT_SUPPORTED_MESSAGE));
    }

    /** A name no pool can have is not sent to the platform (it could not route a slash, for one). */
    private static String existingName(String name) {
        if (!validName(name)) {
            throw PoolRuntime.poolNotFound(name);
        }
        return name;
    }

    private static void validate(Pool.Capacity capacity) {
        if (capacity == null) {
            throw malformed("capacitySpec is required.");
        }
        nonNegative("bufferMax", capacity.bufferMax());
        nonNegative("bufferMin", capacity.bufferMin());
        nonNegative("poolMax", capacity.poolMax());
        nonNegative("poolMin", capacity.poolMin());
    }

    private static void nonNegative(String field, int value) {
        if (value < 0) {
            throw malformed("capacitySpec." + field + " must be greater than or equal to 0.");
        }
    }

    private static MalformedRequestException malformed(String message) {
        return new MalformedRequestException(ErrorCodes.VALIDATION_ERROR, message);
    }
}
