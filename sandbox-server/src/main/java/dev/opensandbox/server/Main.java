package dev.opensandbox.server;

import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.core.service.ServicePolicy;
import dev.opensandbox.core.service.SnapshotService;
import dev.opensandbox.core.spi.Deployment;
import dev.opensandbox.core.spi.RuntimeContext;
import dev.opensandbox.core.spi.SandboxRuntime;
import dev.opensandbox.core.spi.SandboxRuntimeProvider;
import dev.opensandbox.core.store.InMemorySandboxStore;
import dev.opensandbox.core.store.SandboxStore;
import dev.opensandbox.server.config.ApiKeyGuard;
import dev.opensandbox.server.config.ConfigException;
import dev.opensandbox.server.config.ConfigLoader;
import dev.opensandbox.server.config.ExecdSection;
import dev.opensandbox.server.config.InitConfigCommand;
import dev.opensandbox.server.config.LoadedConfig;
import dev.opensandbox.server.config.ServerConfig;
import dev.opensandbox.server.config.StartupBlockedException;
import dev.opensandbox.server.config.Terminal;
import dev.opensandbox.server.execd.BuiltInExecd;
import dev.opensandbox.server.execd.ExecdSettings;
import dev.opensandbox.server.http.ApiServer;
import dev.opensandbox.server.http.HttpSettings;
import dev.opensandbox.server.store.JdbcSandboxStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Starts the server: {@code [--config PATH]} or {@code init-config [PATH] [--example docker|k8s] [--force]}.
 *
 * <p>The only place that reads the environment and the system clock; everything else gets them
 * injected. Start-up checks (configuration, API-key guard) run before any runtime side effect.
 */
public final class Main {

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) {
        int exit = run(args, System.getenv(), Path.of(System.getProperty("user.home")), Clock.systemUTC());
        if (exit != 0) {
            System.exit(exit);
        }
    }

    static int run(String[] args, Map<String, String> env, Path userHome, Clock clock) {
        Launch launch = launch(args, env, userHome, clock);
        if (launch.server() != null) {
            Runtime.getRuntime().addShutdownHook(new Thread(launch.server()::close, "opensandbox-shutdown"));
        }
        return launch.exitCode();
    }

    /**
     * The outcome of a start: an exit code, and the running server when there is one.
     *
     * @param exitCode 0 when the command succeeded (a server runs, or a command such as
     *                 {@code init-config} finished), else the process exit code
     * @param server   the running server, or null
     */
    public record Launch(int exitCode, Server server) {
    }

    /**
     * Does what {@code main} does without exiting the JVM or registering a shutdown hook, so that
     * tests and embedders can start the real server and stop it again.
     */
    public static Launch launch(String[] args, Map<String, String> env, Path userHome, Clock clock) {
        List<String> arguments = new ArrayList<>(Arrays.asList(args));
        if (!arguments.isEmpty() && arguments.get(0).equals("init-config")) {
            InitConfigCommand initConfig = new InitConfigCommand(env, userHome, System.out, System.err);
            return new Launch(initConfig.run(arguments.subList(1, arguments.size())), null);
        }
        Optional<String> configPath = Optional.empty();
        for (int i = 0; i < arguments.size(); i++) {
            String arg = arguments.get(i);
            if (arg.equals("--config") && i + 1 < arguments.size()) {
                configPath = Optional.of(arguments.get(++i));
            } else if (arg.startsWith("--config=")) {
                configPath = Optional.of(arg.substring("--config=".length()));
            } else if (arg.equals("--help") || arg.equals("-h")) {
                System.out.println("usage: opensandbox-server [--config PATH]\n"
                    + "       opensandbox-server init-config [PATH] [--example docker|k8s] [--force]");
                return new Launch(0, null);
            } else {
                System.err.println("Unknown argument: " + arg + " (see --help)");
                return new Launch(2, null);
            }
        }

        LoadedConfig loaded;
        try {
            loaded = new ConfigLoader(env, userHome).load(configPath);
        } catch (ConfigException e) {
            System.err.println("Invalid configuration: " + e.getMessage());
            return new Launch(1, null);
        }
        ServerConfig config = loaded.config();
        Logging.configure(config.log());
        loaded.notices().forEach(LOG::info);
        loaded.warnings().forEach(LOG::warn);
        LOG.info("Configuration: {}", config.describeSource());

        try {
            new ApiKeyGuard(env, Terminal.system()).check(config).ifPresent(LOG::warn);
        } catch (StartupBlockedException e) {
            LOG.error("API key startup confirmation failed: {}", e.getMessage());
            return new Launch(1, null);
        }

        try {
            return new Launch(0, Server.start(config, env, clock));
        } catch (SandboxException | IllegalStateException e) {
            LOG.error("Startup failed: {}", e.getMessage());
            return new Launch(1, null);
        }
    }

    /** The running parts, closed in reverse order of start. */
    public record Server(ApiServer api, SandboxService sandboxes, ExecutorService snapshotWorkers, SandboxRuntime runtime,
                  SandboxStore store) implements AutoCloseable {

        /** The port the HTTP API listens on. */
        public int port() {
            return api.port();
        }

        static Server start(ServerConfig config, Map<String, String> env, Clock clock) {
            SandboxStore store = openStore(config);
            SandboxRuntime runtime;
            try {
                runtime = openRuntime(config, env, clock, deployment(config, store));
            } catch (RuntimeException e) {
                store.close(); // a failed start leaves nothing open
                throw e;
            }
            try {
                return start(config, clock, store, runtime);
            } catch (RuntimeException e) {
                runtime.close();
                store.close();
                throw e;
            }
        }

        private static Server start(ServerConfig config, Clock clock, SandboxStore store, SandboxRuntime runtime) {
            ServicePolicy policy = new ServicePolicy(config.server().maxSandboxTimeout().orElse(null),
                config.storage().allowedHostPaths(), config.server().requireSecureAccess())
                .withResourceLimits(config.server().defaultResourceLimits(), config.server().maxResourceLimits());
            SandboxService sandboxes = new SandboxService(runtime, store, clock, policy);
            ExecutorService snapshotWorkers = Executors.newFixedThreadPool(2, runnable -> {
                Thread thread = new Thread(runnable, "opensandbox-snapshot");
                thread.setDaemon(true);
                return thread;
            });
            SnapshotService snapshots = new SnapshotService(sandboxes, store, clock, snapshotWorkers);
            snapshots.recover();
            sandboxes.start(config.server().sweepInterval());
            HttpSettings http = new HttpSettings(config.server().apiKey().orElse(null),
                config.server().corsAllowedOrigins(), config.server().eip().orElse(null),
                config.server().limitConcurrency().orElse(0), config.server().keepAliveTimeout(),
                config.server().backlog(), config.server().threadPoolSize())
                .withProxy(config.server().proxyRequiresApiKey(), null, null)
                .withRenewOnAccess(config.renewIntent().enabled() ? config.renewIntent().minInterval() : null)
                .withRequestBodies(config.server().maxRequestBodyBytes(), null);
            if (config.renewIntent().enabled()) {
                LOG.info("renew-on-access: on (at most once per {} s per sandbox){}", config.renewIntent().minInterval()
                    .toSeconds(), config.renewIntent().redis().enabled()
                    ? "; the Redis intent consumer ([renew_intent] redis) is not implemented and is ignored" : "");
            }
            boolean builtInExecd = config.runtime().execdImage().isEmpty() && runtime.capabilities().exec();
            if (builtInExecd) {
                LOG.info("execd: built-in (no [runtime] execd_image): the server answers port {} of every sandbox itself",
                    BuiltInExecd.PORT);
            } else if (config.runtime().execdImage().isPresent()) {
                LOG.info("execd: injected from {} ([runtime] execd_image); port {} is proxied to that daemon",
                    config.runtime().execdImage().get(), BuiltInExecd.PORT);
            }
            ExecdSection execd = config.execd();
            ApiServer api = new ApiServer(sandboxes, snapshots, http, clock, config.server().threadPoolSize(),
                builtInExecd ? new ExecdSettings(execd.maxLogBytesPerCommand(), execd.maxLogBytesPerSandbox(),
                    execd.maxLogBytesPerServer(), execd.finishedCommandRetention(), execd.readLogRetention()) : null)
                .start(config.server().host(), config.server().port());
            return new Server(api, sandboxes, snapshotWorkers, runtime, store);
        }

        private static SandboxStore openStore(ServerConfig config) {
            if (config.store().type().equals("memory")) {
                LOG.info("Store: in memory (records are lost on restart)");
                return new InMemorySandboxStore();
            }
            LOG.info("Store: {}", config.store().describe());
            return JdbcSandboxStore.openSqlite(config.store().path());
        }

        /**
         * {@code [deployment] id}, else the id the store keeps, else (a store that keeps nothing) one
         * derived from the port, which two servers on one machine cannot share and a restart keeps.
         */
        static Deployment deployment(ServerConfig config, SandboxStore store) {
            String id = config.deployment().id()
                .or(store::deploymentId)
                .orElse("local-" + config.server().port());
            Deployment deployment = config.deployment().deployment(id);
            LOG.info("Deployment: {} (this server touches only sandboxes labelled {}={}{})", id,
                dev.opensandbox.core.Labels.DEPLOYMENT, id,
                deployment.adoptUnlabelled() ? ", and adopts those without the label" : "");
            return deployment;
        }

        private static SandboxRuntime openRuntime(ServerConfig config, Map<String, String> env, Clock clock,
                                                  Deployment deployment) {
            String type = config.runtime().type();
            List<String> available = new ArrayList<>();
            for (SandboxRuntimeProvider provider : ServiceLoader.load(SandboxRuntimeProvider.class)) {
                available.add(provider.type());
                if (provider.type().equals(type)) {
                    SandboxRuntime runtime = provider.create(new RuntimeContext(clock, config.rawTables(), env, deployment));
                    if (type.equals("in-memory")) {
                        LOG.warn("Runtime: in-memory — sandboxes are simulated inside this process, run nothing, "
                            + "and vanish on restart; for demos and tests only");
                    } else {
                        LOG.info("Runtime: {}", type);
                    }
                    return runtime;
                }
            }
            throw new IllegalStateException("No runtime provider for [runtime] type = \"" + type
                + "\" on the classpath; available: " + available);
        }

        @Override
        public void close() {
            LOG.info("Shutting down");
            api.close();
            sandboxes.close();
            snapshotWorkers.shutdown();
            try {
                snapshotWorkers.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            runtime.close();
            store.close();
        }
    }
}
