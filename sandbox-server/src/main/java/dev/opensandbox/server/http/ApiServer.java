package dev.opensandbox.server.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.service.PoolService;
import dev.opensandbox.core.service.SandboxQuery;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.service.SnapshotService;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.EndpointRequest;
import dev.opensandbox.core.store.SnapshotQuery;
import dev.opensandbox.core.store.SnapshotState;
import dev.opensandbox.server.execd.BuiltInExecd;
import dev.opensandbox.server.execd.ExecdSettings;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The lifecycle HTTP API on Javalin: every route at {@code /} and {@code /v1}, thin handlers
 * (parse, call a use case, map the result), filters in the order request id, CORS, API key, and
 * one error table. Calls that reach the runtime run on {@link AsyncRunner}, never on a Jetty
 * thread.
 */
public final class ApiServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
    private static final Logger ACCESS = LoggerFactory.getLogger("dev.opensandbox.server.access");
    static final String[] PREFIXES = {"", "/v1"};

    private final SandboxService sandboxes;
    private final SnapshotService snapshots;
    private final HttpSettings settings;
    private final AsyncRunner runner;
    private final ObjectMapper mapper;
    private final Javalin app;
    private final Filters filters;
    private final ConcurrencyLimit concurrency;
    private final RequestBodies bodies;
    private final HealthProbe health;
    private final java.time.Clock clock;
    private final List<String> routes = new java.util.ArrayList<>();
    private final ReverseProxy proxy;
    private final WebSocketProxy webSocketProxy;

    private final BuiltInExecd execd;
    private final java.util.concurrent.ExecutorService execdWorkers;

    /** A server whose sandboxes run their own execd on port 44772 (injected mode), or need none. */
    public ApiServer(SandboxService sandboxes, SnapshotService snapshots, HttpSettings settings, java.time.Clock clock,
                     int platformThreads) {
        this(sandboxes, snapshots, settings, clock, platformThreads, false);
    }

    /**
     * @param builtInExecd whether the server answers the execd API of port 44772 itself (the
     *                     default when {@code [runtime] execd_image} is not set)
     */
    public ApiServer(SandboxService sandboxes, SnapshotService snapshots, HttpSettings settings, java.time.Clock clock,
                     int platformThreads, boolean builtInExecd) {
        this(sandboxes, snapshots, settings, clock, platformThreads, builtInExecd ? ExecdSettings.defaults() : null);
    }

    /**
     * @param builtInExecd the output bounds of the built-in execd when the server answers the execd
     *                     API of port 44772 itself; null when sandboxes bring their own daemon
     */
    public ApiServer(SandboxService sandboxes, SnapshotService snapshots, HttpSettings settings, java.time.Clock clock,
                     int platformThreads, ExecdSettings builtInExecd) {
        this.clock = clock;
        this.sandboxes = sandboxes;
        this.snapshots = snapshots;
        this.settings = settings;
        this.runner = new AsyncRunner(platformThreads);
        this.mapper = new ObjectMapper()
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        this.filters = new Filters(settings);
        this.concurrency = new ConcurrencyLimit(settings.limitConcurrency());
        this.bodies = new RequestBodies(settings.maxRequestBodyBytes(), settings.bodyReadTimeout());
        this.health = new HealthProbe(sandboxes.runtime(), clock, settings.healthProbeInterval());
        ProxyTargets proxyTargets = new ProxyTargets(sandboxes, settings.renewOnAccessInterval() == null ? null
            : new AccessRenewals(sandboxes, settings.renewOnAccessInterval(), runner::execute, clock));
        this.execdWorkers = builtInExecd != null ? ThreadPools.virtualOrCached("opensandbox-execd-") : null;
        this.execd = builtInExecd != null ? new BuiltInExecd(sandboxes, clock, execdWorkers, builtInExecd) : null;
        this.proxy = new ReverseProxy(proxyTargets, settings, execd);
        this.webSocketProxy = new WebSocketProxy(proxyTargets, proxy.client(), proxy.watchdog(),
            settings.maxPendingUpgrades(), settings.upgradeTimeout());
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.useVirtualThreads = false;
            config.http.prefer405over404 = true;
            config.http.defaultContentType = "application/json";
            config.jetty.threadPool = new org.eclipse.jetty.util.thread.QueuedThreadPool(settings.maxRequestThreads(), 8);
            config.jetty.modifyServer(server -> {
                server.setErrorHandler(new JsonErrorHandler(mapper));
                // Javalin adds its connector after this runs, just before it starts the server: tune it then,
                // while it is not yet open (the accept queue is fixed when the socket opens).
                server.addEventListener(new org.eclipse.jetty.util.component.LifeCycle.Listener() {
                    @Override
                    public void lifeCycleStarting(org.eclipse.jetty.util.component.LifeCycle event) {
                        for (org.eclipse.jetty.server.Connector connector : server.getConnectors()) {
                            if (connector instanceof org.eclipse.jetty.server.ServerConnector serverConnector) {
                                serverConnector.setIdleTimeout(settings.idleTimeout().toMillis());
                                serverConnector.setAcceptQueueSize(settings.acceptQueueSize());
                            }
                        }
                    }
                });
            });
            // Dispatch as soon as the headers are in: a body that never comes is then answered by RequestBodies'
            // short read timeout (or refused at once when its declared length is too large), not held by Jetty
            // until the connection's idle timeout.
            config.jetty.modifyHttpConfiguration(http -> {
                http.setDelayDispatchUntilContent(false);
                http.addCustomizer(new MethodOverride());
                http.addCustomizer(new PercentEncoding());
            });
            config.jetty.modifyServletContextHandler(context -> context.setErrorHandler(new JsonErrorHandler(mapper)));
            config.jetty.modifyWebSocketServletFactory(factory -> {
                // Only the proxy serves WebSockets: relay whole messages of any reasonable size, and let
                // quiet connections live as long as the proxy's idle limit (Jetty's default is 30 s).
                factory.setMaxTextMessageSize(WebSocketProxy.MAX_MESSAGE_BYTES);
                factory.setMaxBinaryMessageSize(WebSocketProxy.MAX_MESSAGE_BYTES);
                factory.setIdleTimeout(settings.proxyIdleTimeout());
            });
            config.router.ignoreTrailingSlashes = true;
            config.jsonMapper(new JavalinJackson(mapper, false));
            config.requestLogger.http(ApiServer::logAccess);
        });
        registerFilters();
        registerRoutes();
        registerErrors();
    }

    /** What {@code /health} reports, for tests to probe on demand. */
    HealthProbe health() {
        return health;
    }

    /** The Javalin instance, for starting and for tests. */
    public Javalin javalin() {
        return app;
    }

    public ApiServer start(String host, int port) {
        app.start(host, port);
        health.start();
        LOG.info("Lifecycle API listening on {}:{} (runtime calls on {})", host, app.port(),
            runner.usesVirtualThreads() ? "virtual threads" : "a bounded thread pool");
        return this;
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        health.close();
        app.stop();
        webSocketProxy.close();
        proxy.close();
        if (execd != null) {
            execd.close();
            execdWorkers.shutdownNow();
        }
        runner.close();
    }

    /** One access-log line per request, carrying the request id (upstream always printed "-" there). */
    private static void logAccess(Context ctx, Float ms) {
        String requestId = ctx.attribute(Filters.MDC_REQUEST_ID);
        if (requestId != null) {
            org.slf4j.MDC.put(Filters.MDC_REQUEST_ID, requestId);
        }
        try {
            ACCESS.info("{} - \"{} {} {}\" {} {}ms", ctx.ip(), ctx.method(), ctx.path(), ctx.protocol(),
                ctx.statusCode(), Math.round(ms));
        } finally {
            org.slf4j.MDC.remove(Filters.MDC_REQUEST_ID);
        }
    }

    // ------------------------------------------------------------ wiring

    private void registerFilters() {
        app.before(filters::requestId);
        app.before(concurrency::enter);
        app.before(filters::cors);
        app.before(filters::auth);
        app.after(concurrency::leave);
        app.after(filters::clearMdc);
        // WebSocket upgrades skip the "before" filters: the same request-id and API-key rules, applied deliberately.
        app.wsBeforeUpgrade(ctx -> {
            filters.requestId(ctx);
            guardUpgrade(ctx, filters::auth);
        });
        app.wsAfterUpgrade(filters::clearMdc);
    }

    /** Runs a check before a WebSocket upgrade; any failure answers JSON and cancels the upgrade. */
    private void guardUpgrade(Context ctx, Handler check) throws Exception {
        try {
            check.handle(ctx);
        } catch (RuntimeException e) {
            ctx.skipRemainingHandlers();
            ErrorResponses.Answer answer = ErrorResponses.answer(ctx, e);
            byte[] body = mapper.writeValueAsBytes(new Responses.ErrorBody(answer.code(), answer.message()));
            ctx.res().setStatus(answer.status());
            ctx.res().setContentType("application/json");
            ctx.res().setContentLength(body.length);
            ctx.res().getOutputStream().write(body);
            ctx.res().flushBuffer();
            filters.clearMdc(ctx);
        }
    }

    private void registerErrors() {
        app.exception(HttpResponseException.class, (e, ctx) -> {
            int status = e.getStatus();
            // Routing misses say only "Not Found" / "Method Not Allowed", as upstream.
            boolean routing = status == 404 || status == 405;
            ErrorResponses.write(ctx, status, HttpErrors.code(status), HttpErrors.message(status, routing ? null : e.getMessage()));
        });
        app.exception(Exception.class, (e, ctx) -> ErrorResponses.write(ctx, e));
    }

    void route(HandlerType method, String path, Handler handler) {
        for (String prefix : PREFIXES) {
            app.addHttpHandler(method, prefix + path, handler);
            routes.add(method.name() + " " + prefix + path);
        }
    }

    private void rootRoute(HandlerType method, String path, Handler handler) {
        app.addHttpHandler(method, path, handler);
        routes.add(method.name() + " " + path);
    }

    /** Every served route as {@code METHOD /path}, for the OpenAPI document's completeness test. */
    public List<String> routes() {
        return List.copyOf(routes);
    }

    private void registerRoutes() {
        rootRoute(HandlerType.GET, "/health", ctx -> {
            HealthProbe.Status status = health.status();
            ctx.status(status.healthy() ? 200 : 503).json(Responses.HealthBody.of(status));
        });
        rootRoute(HandlerType.GET, "/openapi.json", this::openApi);

        route(HandlerType.POST, "/sandboxes", ctx -> {
            JsonNode json = body(ctx);
            var spec = Requests.createSandbox(json);
            // "metadata":{} is echoed as {} (only an absent or null map is omitted), as upstream.
            boolean metadataSent = json.hasNonNull("metadata");
            async(ctx, () -> sandboxes.create(spec),
                (c, sandbox) -> c.status(202).json(Responses.CreatedSandboxBody.of(sandbox, metadataSent)));
        });
        route(HandlerType.GET, "/sandboxes", ctx -> {
            SandboxQuery query = new SandboxQuery(new HashSet<>(ctx.queryParams("state")),
                QueryParams.metadataFilter(ctx.queryParam("metadata")),
                QueryParams.longParam(ctx, "page", 1, Long.MAX_VALUE, 1L),
                QueryParams.longParam(ctx, "pageSize", 1, SandboxQuery.MAX_PAGE_SIZE, (long) SandboxQuery.DEFAULT_PAGE_SIZE).intValue());
            async(ctx, () -> sandboxes.list(query), (c, page) -> c.json(Responses.ListBody.of(page, Responses.SandboxBody::of)));
        });
        route(HandlerType.GET, "/sandboxes/{sandboxId}", ctx -> {
            SandboxId id = sandboxId(ctx);
            async(ctx, () -> sandboxes.get(id), (c, sandbox) -> c.json(Responses.SandboxBody.of(sandbox)));
        });
        route(HandlerType.DELETE, "/sandboxes/{sandboxId}", ctx -> {
            SandboxId id = sandboxId(ctx);
            run(ctx, () -> sandboxes.delete(id), ApiServer::noContent);
        });
        route(HandlerType.PATCH, "/sandboxes/{sandboxId}/metadata", ctx -> {
            SandboxId id = sandboxId(ctx);
            Map<String, String> patch = Requests.metadataPatch(body(ctx));
            async(ctx, () -> sandboxes.patchMetadata(id, patch), (c, sandbox) -> c.json(Responses.SandboxBody.of(sandbox)));
        });
        route(HandlerType.POST, "/sandboxes/{sandboxId}/pause", ctx -> {
            SandboxId id = sandboxId(ctx);
            run(ctx, () -> sandboxes.pause(id), ApiServer::emptyAccepted);
        });
        route(HandlerType.POST, "/sandboxes/{sandboxId}/resume", ctx -> {
            SandboxId id = sandboxId(ctx);
            run(ctx, () -> sandboxes.resume(id), ApiServer::emptyAccepted);
        });
        route(HandlerType.POST, "/sandboxes/{sandboxId}/renew-expiration", ctx -> {
            SandboxId id = sandboxId(ctx);
            Instant expiresAt = Requests.renewExpiration(body(ctx));
            async(ctx, () -> sandboxes.renew(id, expiresAt), (c, accepted) -> c.json(Responses.RenewBody.of(accepted)));
        });
        route(HandlerType.GET, "/sandboxes/{sandboxId}/endpoints/{port}", this::endpoint);

        route(HandlerType.POST, "/sandboxes/{sandboxId}/snapshots", ctx -> {
            SandboxId id = sandboxId(ctx);
            String name = Requests.snapshotName(bodyText(ctx).isBlank() ? null : body(ctx));
            async(ctx, () -> snapshots.create(id, name), (c, snapshot) -> c.status(202)
                .header("Location", "/v1/snapshots/" + snapshot.id())
                .json(Responses.SnapshotBody.of(snapshot)));
        });
        route(HandlerType.GET, "/snapshots", ctx -> {
            SnapshotQuery query = snapshotQuery(ctx);
            async(ctx, () -> query == null
                    ? new dev.opensandbox.core.Page<dev.opensandbox.core.store.SnapshotRecord>(List.of(),
                        QueryParams.longParam(ctx, "page", 1, Long.MAX_VALUE, 1L),
                        QueryParams.longParam(ctx, "pageSize", 1, 200, 20L).intValue(), 0)
                    : snapshots.list(query),
                (c, page) -> c.json(Responses.ListBody.of(page, Responses.SnapshotBody::of)));
        });
        route(HandlerType.GET, "/snapshots/{snapshotId}", ctx -> {
            String id = ctx.pathParam("snapshotId");
            async(ctx, () -> snapshots.get(id), (c, snapshot) -> c.json(Responses.SnapshotBody.of(snapshot)));
        });
        route(HandlerType.DELETE, "/snapshots/{snapshotId}", ctx -> {
            String id = ctx.pathParam("snapshotId");
            run(ctx, () -> snapshots.delete(id), ApiServer::noContent);
        });

        Diagnostics diagnostics = new Diagnostics(sandboxes, clock);
        route(HandlerType.GET, "/sandboxes/{sandboxId}/diagnostics/logs", ctx -> diagnostics.logs(ctx, this));
        route(HandlerType.GET, "/sandboxes/{sandboxId}/diagnostics/events", ctx -> diagnostics.events(ctx, this));
        route(HandlerType.GET, "/sandboxes/{sandboxId}/diagnostics/inspect", ctx -> diagnostics.inspect(ctx, this));
        route(HandlerType.GET, "/sandboxes/{sandboxId}/diagnostics/summary", ctx -> diagnostics.summary(ctx, this));

        // The reverse proxy: HTTP on every method of both shapes, WebSocket on the same paths.
        for (String shape : List.of("/sandboxes/{sandboxId}/proxy/{port}", "/sandboxes/{sandboxId}/proxy/{port}/<path>")) {
            for (HandlerType method : List.of(HandlerType.GET, HandlerType.POST, HandlerType.PUT, HandlerType.DELETE,
                HandlerType.PATCH, HandlerType.HEAD, HandlerType.OPTIONS)) {
                route(method, shape, proxy::handle);
            }
            for (String prefix : PREFIXES) {
                app.wsBeforeUpgrade(prefix + shape, ctx -> guardUpgrade(ctx, webSocketProxy::beforeUpgrade));
                app.ws(prefix + shape, webSocketProxy::configure);
            }
        }

        new PoolRoutes(new PoolService(sandboxes.runtime()), mapper).register(this);
    }

    // ------------------------------------------------------------ handlers

    private void endpoint(Context ctx) {
        SandboxId id = sandboxId(ctx);
        int port = QueryParams.intPath(ctx, "port");
        Boolean useServerProxy = QueryParams.boolParam(ctx, "use_server_proxy");
        BigInteger expires = expiresParam(ctx);
        boolean viaProxy = useServerProxy != null && useServerProxy;
        if (viaProxy && expires != null) {
            throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER,
                "use_server_proxy cannot be combined with expires; signed endpoints require the gateway route.");
        }
        // Signed routes are the runtime's business: Docker and in-memory refuse them (400
        // SANDBOX::API_NOT_SUPPORTED), Kubernetes signs them in gateway mode.
        EndpointRequest request = new EndpointRequest(id, port, EndpointPurpose.EXTERNAL, expires);
        String base = proxyBase(ctx);
        if (execd != null && port == BuiltInExecd.PORT) {
            // Built-in mode: the server itself answers execd, under its proxy route (no /v1: clients
            // require an endpoint with a path to end in /44772).
            async(ctx, () -> {
                if (expires != null) {
                    // The runtime's own refusals first; a route it signed would lead to a port where
                    // nothing listens, since execd lives in this server.
                    sandboxes.endpoint(request);
                    throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, "Signed routes cannot reach "
                        + "the built-in execd (port " + port + "), which only this server's proxy serves; set "
                        + "[runtime] execd_image or omit the expires parameter.");
                }
                sandboxes.get(id);
                Endpoint endpoint = new Endpoint(base + "/sandboxes/" + id + "/proxy/" + port, Map.of());
                return sandboxes.accessToken(id)
                    .map(token -> endpoint.withHeader(SandboxService.SECURE_ACCESS_HEADER, token)).orElse(endpoint);
            }, (c, endpoint) -> c.json(Responses.EndpointBody.of(endpoint)));
            return;
        }
        async(ctx, () -> {
            Endpoint endpoint = sandboxes.endpoint(request);
            return viaProxy ? new Endpoint(base + "/sandboxes/" + id + "/proxy/" + port, endpoint.headers()) : endpoint;
        }, (c, endpoint) -> c.json(Responses.EndpointBody.of(endpoint)));
    }

    /**
     * {@code expires} as the client sent it. Upstream reads it as a Python integer, so a digit
     * string of any length is taken as is (the runtime answers 400 for values outside uint64);
     * other spellings go through the lenient integer rules of every query parameter (422 if not
     * an integer).
     */
    private static BigInteger expiresParam(Context ctx) {
        String raw = ctx.queryParam("expires");
        if (raw != null && raw.trim().matches("[+-]?[0-9]+")) {
            return new BigInteger(raw.trim());
        }
        Long lenient = QueryParams.longParam(ctx, "expires", Long.MIN_VALUE, Long.MAX_VALUE, null);
        return lenient == null ? null : BigInteger.valueOf(lenient);
    }

    /** The server's public base without scheme: {@code [server] eip}, else the request's Host. */
    private String proxyBase(Context ctx) {
        String base = settings.eip() != null ? settings.eip() : ctx.host();
        if (base == null) {
            base = "localhost";
        }
        base = base.replaceFirst("^[a-zA-Z][a-zA-Z0-9+.-]*://", "");
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return base;
    }

    private SnapshotQuery snapshotQuery(Context ctx) {
        long page = QueryParams.longParam(ctx, "page", 1, Long.MAX_VALUE, 1L);
        int pageSize = QueryParams.longParam(ctx, "pageSize", 1, 200, 20L).intValue();
        List<String> requested = ctx.queryParams("state");
        Set<SnapshotState> states = EnumSet.noneOf(SnapshotState.class);
        for (String name : requested) {
            for (SnapshotState state : SnapshotState.values()) {
                if (state.name().equals(name)) {
                    states.add(state);
                }
            }
        }
        if (!requested.isEmpty() && states.isEmpty()) {
            return null; // only unknown states: nothing can match (the filter is case-sensitive, as upstream)
        }
        return new SnapshotQuery(ctx.queryParam("sandboxId"), states, page, pageSize);
    }

    private void openApi(Context ctx) throws IOException {
        try (InputStream in = ApiServer.class.getResourceAsStream("/dev/opensandbox/server/openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("openapi.json missing from the classpath");
            }
            ctx.contentType("application/json").result(in.readAllBytes());
        }
    }

    // ------------------------------------------------------------ helpers

    /** {@link #async} for calls without a result. */
    void run(Context ctx, Runnable call, java.util.function.Consumer<Context> respond) {
        async(ctx, () -> {
            call.run();
            return Boolean.TRUE;
        }, (c, done) -> respond.accept(c));
    }

    <T> void async(Context ctx, Supplier<T> call, BiConsumer<Context, T> respond) {
        CompletableFuture<T> future = runner.supply(call);
        String requestId = ctx.attribute(Filters.MDC_REQUEST_ID);
        ctx.future(() -> future.handle((value, error) -> {
            // Runs on whichever thread completes the call (usually a runtime thread whose MDC the
            // runner has already restored): give the response's log lines this request's id.
            if (requestId != null) {
                MDC.put(Filters.MDC_REQUEST_ID, requestId);
            }
            try {
                if (error != null) {
                    ErrorResponses.write(ctx, error);
                } else {
                    respond.accept(ctx, value);
                }
            } finally {
                MDC.remove(Filters.MDC_REQUEST_ID);
            }
            return null;
        }));
        // The HTTP thread is done with this request; do not let its id leak into the thread's next log lines.
        MDC.remove(Filters.MDC_REQUEST_ID);
    }

    /** 202 with no body: no Content-Type (Javalin presets the default one) and an explicit zero length for the JS SDK. */
    private static void emptyAccepted(Context ctx) {
        ctx.status(202);
        ctx.res().setContentType(null);
        ctx.header("Content-Length", "0");
        ctx.result(new byte[0]);
    }

    /** 204: no body and no Content-Type. */
    static void noContent(Context ctx) {
        ctx.status(204);
        ctx.res().setContentType(null);
    }

    SandboxId sandboxId(Context ctx) {
        String raw = ctx.pathParam("sandboxId");
        return SandboxId.tryParse(raw).orElseThrow(() -> new NotFoundException(
            sandboxes.runtime().capabilities().errorNamespace() + "::SANDBOX_NOT_FOUND", "Sandbox " + raw + " not found."));
    }

    /** The JSON API body as text, read within the size and time limits (see {@link RequestBodies}). */
    String bodyText(Context ctx) {
        return new String(bodies.read(ctx), java.nio.charset.StandardCharsets.UTF_8);
    }

    JsonNode body(Context ctx) {
        String text = bodyText(ctx);
        if (text.isBlank()) {
            throw JsonObject.invalid("body", "Field required");
        }
        try {
            return mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw JsonObject.invalid("body", "JSON decode error: " + e.getOriginalMessage());
        }
    }
}
