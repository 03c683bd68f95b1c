package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.RegistryAuth;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.spi.ProvisionRequest;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The orphan reaper against the mock API server: what it must leave alone. */
class ReapOrphansOnKubernetesTest extends RuntimeOnMockClusterTest {

    @Override
    KubernetesRuntimeConfig config() {
        return KubernetesRuntimeConfig.defaults(KubernetesSandboxRuntimeTest.NAMESPACE);
    }

    boolean secretExists(ProvisionRequest request) {
        return cluster.client().secrets().inNamespace(KubernetesSandboxRuntimeTest.NAMESPACE)
            .withName(BatchSandboxes.imagePullSecretName(request.id())).get() != null;
    }

    /** Holds the BatchSandbox POST on the creating thread (not in the mock, which serves one request at a time). */
    static final class HoldBatchSandboxPost implements Interceptor {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch go = new CountDownLatch(1);

        @Override
        public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
            if (request.method().equals("POST") && request.uri().getPath().endsWith("/batchsandboxes")) {
                reached.countDown();
                try {
                    go.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** The Secret is created before the BatchSandbox: between the two, it is no orphan. */
    @Test
    void theSecretOfACreateInFlightIsNotReaped() throws Exception {
        HoldBatchSandboxPost hold = new HoldBatchSandboxPost();
        KubernetesSandboxRuntime holding = new KubernetesSandboxRuntime(config(), cluster.newClient(builder ->
            builder.withHttpClientBuilderConsumer(http -> http.addOrReplaceInterceptor("hold", hold))), false, Map.of(),
            clock);
        try {
            assertTrue(holding.awaitCachesSynced(KubernetesSandboxRuntimeTest.BOUND));
            ProvisionRequest request = request(KubernetesSandboxRuntimeTest.spec()
                .image(new ImageSpec("registry.example.com/app:1", new RegistryAuth("u", "p"))).build());
            CompletableFuture<Sandbox> creating = CompletableFuture.supplyAsync(() -> holding.create(request));
            try {
                assertTrue(hold.reached.await(10, TimeUnit.SECONDS), "the create reached its BatchSandbox POST");
                assertTrue(secretExists(request));

                holding.reapOrphans();

                assertTrue(secretExists(request), "the Secret of a create in flight stays");
            } finally {
                hold.go.countDown();
            }
            creating.get(10, TimeUnit.SECONDS);
            holding.reapOrphans();
            assertTrue(secretExists(request), "and once created, its sandbox holds it");
            holding.remove(request.id());
            assertFalse(secretExists(request));
        } finally {
            holding.close();
        }
    }
}
