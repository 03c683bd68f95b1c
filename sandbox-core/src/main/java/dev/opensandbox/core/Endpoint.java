package dev.opensandbox.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Where a port of a sandbox can be reached.
 *
 * @param address {@code host[:port][/path]} without a scheme; clients prefix their own
 * @param headers headers a client must send with every request to that address
 */
public record Endpoint(String address, Map<String, String> headers) {

    public Endpoint {
        Objects.requireNonNull(address, "address");
        headers = headers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    public static Endpoint of(String address) {
        return new Endpoint(address, Map.of());
    }

    public Endpoint withHeader(String name, String value) {
        Map<String, String> copy = new LinkedHashMap<>(headers);
        copy.put(name, value);
        return new Endpoint(address, copy);
    }
}
