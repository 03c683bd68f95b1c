package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.UnavailableException;
import io.fabric8.kubernetes.client.http.HttpRequest;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Upstream's token buckets, on a clock the test moves (the bucket's sleeps advance it). */
class ApiRateLimitsTest {

    private long now = 1_000_000_000L;
    private final List<Long> slept = new ArrayList<>();

    private ApiRateLimits.TokenBucket bucket(double qps, int burst) {
        return new ApiRateLimits.TokenBucket(qps, burst, () -> now, nanos -> {
            slept.add(nanos);
            now += nanos;
        });
    }

    @Test
    void aBucketStartsFullThenRefillsAtQpsUpToBurst() {
        ApiRateLimits.TokenBucket bucket = bucket(2, 3);

        for (int i = 0; i < 3; i++) {
            bucket.acquire();
        }
        assertEquals(List.of(), slept, "the first burst is free");
        bucket.acquire();
        assertEquals(List.of(500_000_000L), slept, "then one token per 1/qps seconds");

        now += 10_000_000_000L; // a long pause refills only up to the burst
        slept.clear();
        for (int i = 0; i < 3; i++) {
            bucket.acquire();
        }
        assertEquals(List.of(), slept);
        bucket.acquire();
        assertEquals(1, slept.size());
    }

    @Test
    void burstZeroMeansQpsAndAtLeastOne() {
        ApiRateLimits.TokenBucket slow = bucket(0.5, 0);
        slow.acquire();
        slow.acquire();
        assertEquals(List.of(2_000_000_000L), slept);
    }

    private static HttpRequest request(String method, String uri) {
        return (HttpRequest) Proxy.newProxyInstance(HttpRequest.class.getClassLoader(), new Class<?>[] {HttpRequest.class},
            (proxy, m, args) -> switch (m.getName()) {
                case "method" -> method;
                case "uri" -> URI.create(uri);
                default -> throw new UnsupportedOperationException(m.getName());
            });
    }

    @Test
    void readsAndWritesDrawFromTheirOwnBucketAndWatchesFromNone() {
        List<String> drawn = new ArrayList<>();
        ApiRateLimits.TokenBucket reads = new ApiRateLimits.TokenBucket(1, 100, () -> now, n -> { });
        ApiRateLimits.TokenBucket writes = new ApiRateLimits.TokenBucket(1, 1, () -> now, n -> {
            drawn.add("write-wait");
            now += n;
        });
        ApiRateLimits limits = new ApiRateLimits(reads, writes);

        limits.before(null, request("GET", "https://k/apis/x/v1/namespaces/n/things"), null);
        limits.before(null, request("GET", "https://k/apis/x/v1/namespaces/n/things?watch=true&timeoutSeconds=60"), null);
        limits.before(null, request("POST", "https://k/apis/x/v1/namespaces/n/things"), null);
        assertEquals(List.of(), drawn, "the write bucket's first token");
        limits.before(null, request("PATCH", "https://k/apis/x/v1/namespaces/n/things/a"), null);
        assertEquals(List.of("write-wait"), drawn, "the second write waits; reads and watches never drew from it");
    }

    @Test
    void settingsComeFromTheKubernetesTable() {
        assertNull(ApiRateLimits.from(Map.of()), "0 everywhere: nothing to limit");
        ApiRateLimits.from(Map.of("read_qps", 50.0, "read_burst", 100L, "write_qps", 10L));
        assertThrows(UnavailableException.class, () -> ApiRateLimits.from(Map.of("write_qps", -1L)));
        assertThrows(UnavailableException.class, () -> ApiRateLimits.from(Map.of("read_qps", "fast")));
    }
}
