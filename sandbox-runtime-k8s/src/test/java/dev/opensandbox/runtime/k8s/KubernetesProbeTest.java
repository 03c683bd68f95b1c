package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.UnavailableException;
import dev.opensandbox.core.testing.MutableClock;
import dev.opensandbox.runtime.k8s.testing.MockCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code probe()}: one bounded read of the API server's version, for the server's health. */
class KubernetesProbeTest {

    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(1);

    MockCluster cluster;
    KubernetesSandboxRuntime runtime;
    final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void start() {
        cluster = new MockCluster();
        runtime = new KubernetesSandboxRuntime(KubernetesRuntimeConfig.defaults(KubernetesSandboxRuntimeTest.NAMESPACE),
            cluster.newClient("probe", REQUEST_TIMEOUT), false, Map.of(),
            new MutableClock(Instant.parse("2026-01-01T00:00:00Z")));
    }

    @AfterEach
    void stop() {
        release.countDown();
        runtime.close();
        cluster.close();
    }

    @Test
    void answersWhenTheApiServerDoes() {
        runtime.probe();

        assertEquals(1, cluster.requests(r -> r.path().equals("/version")).size());
    }

    @Test
    void anApiServerThatIsGoneIsUnavailableNamingItsUrl() {
        String url = cluster.url();
        runtime.probe();
        cluster.close();

        UnavailableException error = assertThrows(UnavailableException.class, runtime::probe);

        assertEquals(KubernetesErrors.API_ERROR, error.code());
        assertTrue(error.getMessage().contains(url), error.getMessage());
    }

    @Test
    void anApiServerThatDoesNotAnswerIsUnavailableWithinTheRequestTimeout() {
        cluster.route(r -> r.path().equals("/version"), recorded -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new io.fabric8.mockwebserver.http.MockResponse().setResponseCode(200).setBody("{}");
        });

        UnavailableException error = assertTimeoutPreemptively(REQUEST_TIMEOUT.plusSeconds(5),
            () -> assertThrows(UnavailableException.class, runtime::probe));

        assertEquals(KubernetesErrors.API_ERROR, error.code());
        assertTrue(error.getMessage().contains(cluster.url()), error.getMessage());
    }
}
