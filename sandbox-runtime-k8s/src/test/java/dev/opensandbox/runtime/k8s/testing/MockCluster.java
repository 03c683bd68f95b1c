package dev.opensandbox.runtime.k8s.testing;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.WebSocketListener;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * fabric8's mock API server in CRUD mode with the BatchSandbox, Pool and SandboxSnapshot CRDs and agent-sandbox's
 * {@code Sandbox} CRD ({@value #AGENT_GROUP}) registered (so that the
 * status subresource behaves: status is stripped on create and only {@code /status} writes it),
 * every request recorded with its body (the mock's merge-patch semantics differ from a real API
 * server's, so tests assert on what the client sent), and a switch that makes every new watch
 * open and stay silent, like a stuck watch.
 *
 * <p>Only the CRD's names and subresources are declared here: the mock does not validate
 * schemas, and the upstream CRD files stay in the shared reference.
 */
public final class MockCluster implements AutoCloseable {

    public static final String GROUP = "sandbox.opensandbox.io";
    /** The group of kubernetes-sigs/agent-sandbox's {@code Sandbox}. */
    public static final String AGENT_GROUP = "agents.x-k8s.io";

    /** The user agent of {@link #controllerClient()}, so that its requests can be told from the runtime's. */
    public static final String CONTROLLER_AGENT = "fake-batchsandbox-controller";

    /** One request as the client sent it. */
    public record Request(String method, String path, String contentType, String body, String userAgent) {
        public boolean isWatch() {
            return path.contains("watch=true");
        }

        public boolean fromController() {
            return CONTROLLER_AGENT.equals(userAgent);
        }
    }

    private final KubernetesMockServer server;
    private final NamespacedKubernetesClient client;
    private final NamespacedKubernetesClient controllerClient;
    private final RecordingDispatcher dispatcher;
    private final List<NamespacedKubernetesClient> extraClients = new CopyOnWriteArrayList<>();

    public MockCluster() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        dispatcher = new RecordingDispatcher(new KubernetesMixedDispatcher(responses));
        server = new KubernetesMockServer(new Context(), new MockWebServer(), responses, dispatcher, false);
        server.init();
        client = server.createClient();
        controllerClient = server.createClient(builder -> builder.editOrNewConfig().withUserAgent(CONTROLLER_AGENT)
            .endConfig());
        client.apiextensions().v1().customResourceDefinitions().resource(batchSandboxDefinition()).create();
        client.apiextensions().v1().customResourceDefinitions().resource(poolDefinition()).create();
        client.apiextensions().v1().customResourceDefinitions().resource(snapshotDefinition()).create();
        client.apiextensions().v1().customResourceDefinitions().resource(agentSandboxDefinition()).create();
    }

    /** A client of the mock; the tests share it with the runtime under test and the fake controller. */
    public NamespacedKubernetesClient client() {
        return client;
    }

    /** A second client for the fake controller: its requests are recorded as {@link Request#fromController()}. */
    public NamespacedKubernetesClient controllerClient() {
        return controllerClient;
    }

    /**
     * A further client of the mock whose requests carry {@code userAgent} (so that tests can tell which
     * runtime sent what), closed with the cluster.
     */
    public NamespacedKubernetesClient newClient(String userAgent) {
        return newClient(userAgent, Duration.ofSeconds(10));
    }

    /** As {@link #newClient(String)}, with the client's request timeout. */
    public NamespacedKubernetesClient newClient(String userAgent, Duration requestTimeout) {
        return newClient(builder -> builder.editOrNewConfig().withUserAgent(userAgent)
            .withRequestTimeout((int) requestTimeout.toMillis()).endConfig());
    }

    /** A further client built by {@code customizer} (interceptors, timeouts), closed with the cluster. */
    public NamespacedKubernetesClient newClient(UnaryOperator<KubernetesClientBuilder> customizer) {
        NamespacedKubernetesClient created = server.createClient(customizer::apply);
        extraClients.add(created);
        return created;
    }

    /** The server's URL, for a kubeconfig. */
    public String url() {
        return server.url("/").replaceAll("/$", "");
    }

    /** Every request so far that matches, watches included. */
    public List<Request> requests(Predicate<Request> filter) {
        return dispatcher.recorded.stream().filter(filter).collect(Collectors.toList());
    }

    /** Requests of the runtime (not the fake controller's), not watches, of {@code method} whose path contains {@code pathPart}. */
    public List<Request> requests(String method, String pathPart) {
        return requests(r -> r.method().equals(method) && r.path().contains(pathPart) && !r.isWatch()
            && !r.fromController());
    }

    /**
     * From now on, requests that match are answered with {@code status} and a Kubernetes
     * {@code Status} body instead of being served: a missing CRD (404), a forbidden call (403), a
     * failing API server (500).
     */
    public void answer(Predicate<Request> filter, int status) {
        dispatcher.overrides.add(Map.entry(filter, status));
    }

    /**
     * From now on, requests that match are answered by {@code responder} instead of being served
     * (for example pod exec by a {@link FakeKubelet}, which the CRUD mode cannot serve).
     */
    public void route(Predicate<Request> filter, Function<RecordedRequest, MockResponse> responder) {
        dispatcher.routes.add(Map.entry(filter, responder));
    }

    /** From now on, new watches open and never deliver an event (the stuck watch of upstream's informer). */
    public void silenceNewWatches(boolean silent) {
        dispatcher.silenceWatches = silent;
    }

    @Override
    public void close() {
        extraClients.forEach(NamespacedKubernetesClient::close);
        controllerClient.close();
        client.close();
        server.destroy();
    }

    static CustomResourceDefinition batchSandboxDefinition() {
        return definition("BatchSandbox", "batchsandboxes", "batchsandbox", "bsbx");
    }

    static CustomResourceDefinition poolDefinition() {
        return definition("Pool", "pools", "pool");
    }

    static CustomResourceDefinition snapshotDefinition() {
        return definition("SandboxSnapshot", "sandboxsnapshots", "sandboxsnapshot", "sbxsnap");
    }

    static CustomResourceDefinition agentSandboxDefinition() {
        return groupDefinition(AGENT_GROUP, "Sandbox", "sandboxes", "sandbox");
    }

    /** A namespaced {@code v1alpha1} CRD of {@link #GROUP} with the status subresource. */
    private static CustomResourceDefinition definition(String kind, String plural, String singular, String... shortNames) {
        return groupDefinition(GROUP, kind, plural, singular, shortNames);
    }

    private static CustomResourceDefinition groupDefinition(String group, String kind, String plural, String singular,
                                                            String... shortNames) {
        return new CustomResourceDefinitionBuilder()
            .withNewMetadata().withName(plural + "." + group).endMetadata()
            .withNewSpec().withGroup(group).withScope("Namespaced")
            .withNewNames().withKind(kind).withPlural(plural).withSingular(singular).withShortNames(shortNames).endNames()
            .addNewVersion().withName("v1alpha1").withServed(true).withStorage(true)
            .withNewSubresources().withNewStatus().endStatus().endSubresources()
            .endVersion().endSpec().build();
    }

    private static final class RecordingDispatcher extends Dispatcher {
        private final Dispatcher delegate;
        private final List<Request> recorded = new CopyOnWriteArrayList<>();
        private volatile boolean silenceWatches;
        private final List<Map.Entry<Predicate<Request>, Integer>> overrides = new CopyOnWriteArrayList<>();
        private final List<Map.Entry<Predicate<Request>, Function<RecordedRequest, MockResponse>>> routes =
            new CopyOnWriteArrayList<>();

        RecordingDispatcher(Dispatcher delegate) {
            this.delegate = delegate;
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            // getBytes() does not consume the buffer: the CRUD dispatcher still reads the body.
            String body = request.getBody() == null ? "" : new String(request.getBody().getBytes(), StandardCharsets.UTF_8);
            Request seen = new Request(request.getMethod(), request.getPath(), request.getHeader("Content-Type"), body,
                request.getHeader("User-Agent"));
            recorded.add(seen);
            for (Map.Entry<Predicate<Request>, Integer> override : overrides) {
                if (override.getKey().test(seen)) {
                    return new MockResponse().setResponseCode(override.getValue()).setBody("{\"kind\":\"Status\","
                        + "\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"injected by the test\","
                        + "\"code\":" + override.getValue() + "}");
                }
            }
            for (Map.Entry<Predicate<Request>, Function<RecordedRequest, MockResponse>> route : routes) {
                if (route.getKey().test(seen)) {
                    return route.getValue().apply(request);
                }
            }
            if (silenceWatches && seen.isWatch()) {
                return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
                });
            }
            return delegate.dispatch(request);
        }

        @Override
        public void shutdown() {
            delegate.shutdown();
        }
    }
}
