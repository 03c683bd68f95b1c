package dev.opensandbox.server.config;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Turns the raw tables of a config file into a validated {@link ServerConfig}. Errors name the dotted
 * key (the loader adds the file); unknown keys become warnings.
 */
final class ConfigParser {
    static final Set<String> SECTIONS = Set.of("server", "log", "runtime", "docker", "kubernetes", "agent_sandbox",
            "ingress", "egress", "storage", "store", "secure_runtime", "renew_intent", "deployment",
            "execd");

    private final Path home;
    private final Map<String, String> env;
    private final List<String> warnings = new ArrayList<>();
    private final List<String> notices = new ArrayList<>();

    ConfigParser(Path home, Map<String, String> env) {
        this.home = home;
        this.env = env;
    }

    List<String> warnings() {
        return List.copyOf(warnings);
    }

    List<String> notices() {
        return List.copyOf(notices);
    }

    ServerConfig parse(Map<String, Object> raw, Optional<Path> source) {
        TableReader root = new TableReader("", raw);
        // Removed upstream tables that old files still carry: accepted without a word.
        root.ignore("pause");
        TableReader runtimeTable = root.optTable("runtime")
                .orElseThrow(() -> ConfigException.at("runtime", "section is required, e.g. [runtime] type = \"docker\""));
        RuntimeSection runtime = runtime(runtimeTable);
        if (runtime.isDocker()) {
            // Checked before the sections are read, so that this, not a detail inside them, is reported.
            for (String forbidden : List.of("kubernetes", "agent_sandbox")) {
                if (root.has(forbidden)) {
                    throw ConfigException.at(forbidden, "the [" + forbidden
                            + "] section is not allowed with runtime.type = \"docker\"");
                }
            }
        }
        ServerSection server = server(root.optTable("server").orElse(TableReader.empty("server")));
        LogSection log = log(root.optTable("log").orElse(TableReader.empty("log")));
        DockerSection docker = docker(root.optTable("docker").orElse(TableReader.empty("docker")));
        Optional<KubernetesSection> kubernetes = root.optTable("kubernetes").map(this::kubernetes);
        if (kubernetes.isEmpty() && runtime.isKubernetes()) {
            kubernetes = Optional.of(KubernetesSection.defaults(kubeconfigFromEnv()));
        }
        Optional<AgentSandboxSection> agentSandbox = root.optTable("agent_sandbox").map(this::agentSandbox);
        boolean agentProvider = kubernetes
                .map(k -> k.workloadProvider() == KubernetesSection.WorkloadProvider.AGENT_SANDBOX).orElse(false);
        if (agentSandbox.isEmpty() && agentProvider) {
            agentSandbox = Optional.of(AgentSandboxSection.defaults());
        }
        IngressSection ingress = root.optTable("ingress").map(ConfigParser::ingress).orElse(IngressSection.defaults());
        EgressSection egress = root.optTable("egress").map(ConfigParser::egress).orElse(EgressSection.defaults());
        StorageSection storage = storage(root.optTable("storage").orElse(TableReader.empty("storage")));
        StoreSection store = store(root.optTable("store").orElse(TableReader.empty("store")));
        SecureRuntimeSection secureRuntime = root.optTable("secure_runtime").map(ConfigParser::secureRuntime)
                .orElse(SecureRuntimeSection.defaults());
        RenewIntentSection renewIntent = renewIntent(root.optTable("renew_intent")
                .orElse(TableReader.empty("renew_intent")));
        DeploymentSection deployment = deployment(root.optTable("deployment").orElse(TableReader.empty("deployment")));
        ExecdSection execd = execd(root.optTable("execd").orElse(TableReader.empty("execd")));
        ServerConfig config = new ServerConfig(server, log, runtime, docker, kubernetes, agentSandbox, ingress, egress,
                storage, store, secureRuntime, renewIntent, execd, deployment, raw, source);
        for (String key : root.unreadKeys()) {
            boolean section = raw.get(key) instanceof Map;
            warnings.add(section ? "unknown section [" + key + "] is ignored" : "unknown key " + key + " is ignored");
        }
        return config;
    }

    private ServerSection server(TableReader t) {
        ServerSection d = ServerSection.defaults();
        // Removed upstream in 0.1.14; one worker is the only supported setting.
        t.ignore("workers");
        if (t.has("log_level")) {
            t.ignore("log_level");
            warnings.add("server.log_level is not a server setting and is ignored; use [log] level");
        }
        long limit = t.longValue("limit_concurrency", d.limitConcurrency().orElse(0));
        if (limit < 0) {
            throw ConfigException.at(t.key("limit_concurrency"),
                    "must be at least 0, where 0 means unlimited (got " + limit + ")");
        }
        String loop = t.string("loop", d.loop());
        String http = t.string("http", d.http());
        for (String knob : List.of("loop", "http")) {
            if (t.has(knob)) {
                notices.add("server." + knob + " is accepted for compatibility with the Python server and ignored");
            }
        }
        return new ServerSection(
                t.string("host", d.host()),
                t.intValue("port", d.port()),
                t.seconds("timeout_keep_alive", d.keepAliveTimeout().toSeconds()),
                limit == 0 ? OptionalInt.empty() : OptionalInt.of(toInt(t, "limit_concurrency", limit)),
                t.intValue("backlog", d.backlog()),
                t.intValue("thread_pool_size", d.threadPoolSize()),
                loop,
                http,
                t.optString("api_key"),
                t.optString("eip"),
                t.optLong("max_sandbox_timeout_seconds").map(Duration::ofSeconds),
                t.optStringList("cors_allowed_origins").orElse(d.corsAllowedOrigins()),
                t.seconds("sweep_interval_seconds", d.sweepInterval().toSeconds()),
                t.bool("proxy_requires_api_key", d.proxyRequiresApiKey()),
                t.bool("require_secure_access", d.requireSecureAccess()),
                t.longValue("max_request_body_bytes", d.maxRequestBodyBytes()),
                t.optStringMap("default_resource_limits").orElse(d.defaultResourceLimits()),
                t.optStringMap("max_resource_limits").orElse(d.maxResourceLimits()),
                t.optStringList("diagnostics_visible_env").orElse(d.diagnosticsVisibleEnv()));
    }

    private static DeploymentSection deployment(TableReader t) {
        DeploymentSection d = DeploymentSection.defaults();
        return new DeploymentSection(t.optString("id"), t.bool("adopt_unlabelled", d.adoptUnlabelled()));
    }

    private static ExecdSection execd(TableReader t) {
        ExecdSection d = ExecdSection.defaults();
        return new ExecdSection(
                t.longValue("max_log_bytes_per_command", d.maxLogBytesPerCommand()),
                t.longValue("max_log_bytes_per_sandbox", d.maxLogBytesPerSandbox()),
                t.longValue("max_log_bytes_per_server", d.maxLogBytesPerServer()),
                t.seconds("finished_command_retention_seconds", d.finishedCommandRetention().toSeconds()),
                t.seconds("read_log_retention_seconds", d.readLogRetention().toSeconds()));
    }

    private LogSection log(TableReader t) {
        LogSection d = LogSection.defaults(home);
        return new LogSection(
                t.string("level", d.level()),
                t.bool("file_enabled", d.fileEnabled()),
                t.optString("file_path").map(this::expand).orElse(d.filePath()),
                t.optString("access_file_path").map(this::expand).orElse(d.accessFilePath()),
                t.longValue("file_max_bytes", d.fileMaxBytes()),
                t.intValue("file_backup_count", d.fileBackupCount()),
                t.string("format", d.format()));
    }

    private static RuntimeSection runtime(TableReader t) {
        // Removed upstream in 0.1.1 in favour of [egress] image.
        t.ignore("egress_image");
        String type = t.optString("type")
                .orElseThrow(() -> ConfigException.at(t.key("type"), "is required (\"docker\", \"kubernetes\" or \"in-memory\")"));
        return new RuntimeSection(type, t.optString("execd_image"));
    }

    private static DockerSection docker(TableReader t) {
        DockerSection d = DockerSection.defaults();
        long apiTimeout = t.longValue("api_timeout", 180);
        if (apiTimeout < 0) {
            throw ConfigException.at(t.key("api_timeout"), "must be at least 0, where 0 means no timeout (got "
                    + apiTimeout + ")");
        }
        long pids = t.longValue("pids_limit", d.pidsLimit().orElse(0));
        if (pids < -1) {
            throw ConfigException.at(t.key("pids_limit"),
                    "must be at least 1, or 0 (or -1) for unlimited (got " + pids + ")");
        }
        return new DockerSection(
                t.string("network_mode", d.networkMode()),
                apiTimeout == 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(apiTimeout)),
                t.optString("host_ip"),
                t.optStringList("drop_capabilities").orElse(d.dropCapabilities()),
                t.optString("apparmor_profile"),
                t.bool("no_new_privileges", d.noNewPrivileges()),
                t.optString("seccomp_profile"),
                pids <= 0 ? OptionalLong.empty() : OptionalLong.of(pids),
                t.string("port_bind_address", d.portBindAddress()));
    }

    private KubernetesSection kubernetes(TableReader t) {
        KubernetesSection d = KubernetesSection.defaults(Optional.empty());
        Optional<Path> configured = t.optString("kubeconfig_path").filter(p -> !p.isBlank()).map(this::expand);
        Optional<Path> fromEnv = kubeconfigFromEnv();
        Optional<Path> kubeconfig = configured.isPresent() ? configured : fromEnv;
        KubernetesSection.KubeconfigOrigin origin = configured.isPresent()
                ? KubernetesSection.KubeconfigOrigin.CONFIG_FILE
                : fromEnv.isPresent() ? KubernetesSection.KubeconfigOrigin.KUBECONFIG_ENV
                        : KubernetesSection.KubeconfigOrigin.IN_CLUSTER;
        Optional<Path> template = t.optString("batchsandbox_template_file").filter(p -> !p.isBlank())
                .map(this::expand);
        template.ifPresent(p -> mustExist(t.key("batchsandbox_template_file"), p));
        Optional<KubernetesSection.ResourceRequirements> execdResources = t.optTable("execd_init_resources")
                .map(r -> new KubernetesSection.ResourceRequirements(
                        r.optStringMap("limits").orElse(Map.of()), r.optStringMap("requests").orElse(Map.of())));
        return new KubernetesSection(
                kubeconfig,
                origin,
                t.optString("namespace").filter(s -> !s.isBlank()),
                t.optString("service_account").filter(s -> !s.isBlank()),
                workloadProvider(t),
                template,
                t.string("image_pull_policy", d.imagePullPolicy()),
                t.seconds("sandbox_create_timeout_seconds", d.sandboxCreateTimeout().toSeconds()),
                t.fractionalSeconds("sandbox_create_poll_interval_seconds", 1.0),
                t.seconds("snapshot_create_timeout_seconds", d.snapshotCreateTimeout().toSeconds()),
                t.bool("informer_enabled", d.informerEnabled()),
                t.seconds("informer_resync_seconds", d.informerResync().toSeconds()),
                t.seconds("informer_watch_timeout_seconds", d.informerWatchTimeout().toSeconds()),
                t.doubleValue("read_qps", d.readQps()),
                t.intValue("read_burst", d.readBurst()),
                t.doubleValue("write_qps", d.writeQps()),
                t.intValue("write_burst", d.writeBurst()),
                execdResources);
    }

    private static KubernetesSection.WorkloadProvider workloadProvider(TableReader t) {
        Optional<String> name = t.optString("workload_provider").filter(s -> !s.isBlank());
        if (name.isEmpty()) {
            return KubernetesSection.WorkloadProvider.BATCHSANDBOX;
        }
        String lower = name.get().strip().toLowerCase(Locale.ROOT);
        for (KubernetesSection.WorkloadProvider p : KubernetesSection.WorkloadProvider.values()) {
            if (p.configName().equals(lower)) {
                return p;
            }
        }
        throw ConfigException.at(t.key("workload_provider"),
                "must be \"batchsandbox\" or \"agent-sandbox\" (got \"" + name.get() + "\")");
    }

    private AgentSandboxSection agentSandbox(TableReader t) {
        AgentSandboxSection d = AgentSandboxSection.defaults();
        Optional<Path> template = t.optString("template_file").filter(p -> !p.isBlank()).map(this::expand);
        template.ifPresent(p -> mustExist(t.key("template_file"), p));
        return new AgentSandboxSection(template, t.string("shutdown_policy", d.shutdownPolicy()),
                t.bool("ingress_enabled", d.ingressEnabled()));
    }

    private static IngressSection ingress(TableReader t) {
        String mode = t.string("mode", IngressSection.DIRECT);
        Optional<IngressSection.Gateway> gateway = t.optTable("gateway").map(g -> {
            String address = g.optString("address")
                    .orElseThrow(() -> ConfigException.at(g.key("address"), "is required in the gateway block"));
            TableReader route = g.optTable("route")
                    .orElseThrow(() -> ConfigException.at(g.key("route.mode"), "is required in the gateway block"));
            String routeMode = route.optString("mode")
                    .orElseThrow(() -> ConfigException.at(route.key("mode"), "is required in the gateway block"));
            return new IngressSection.Gateway(address, routeMode);
        });
        Optional<IngressSection.SecureAccess> secureAccess = t.optTable("secure_access").map(s -> {
            String active = s.optString("active_key")
                    .orElseThrow(() -> ConfigException.at(s.key("active_key"), "is required"));
            List<IngressSection.SigningKey> keys = new ArrayList<>();
            for (TableReader k : s.optTableArray("keys").orElse(List.of())) {
                keys.add(new IngressSection.SigningKey(
                        k.optString("key_id").orElseThrow(() -> ConfigException.at(k.key("key_id"), "is required")),
                        k.optString("key").orElseThrow(() -> ConfigException.at(k.key("key"), "is required"))));
            }
            return new IngressSection.SecureAccess(active, keys);
        });
        return new IngressSection(mode, gateway, secureAccess);
    }

    private static EgressSection egress(TableReader t) {
        EgressSection d = EgressSection.defaults();
        return new EgressSection(t.optString("image"), t.string("mode", d.mode()),
                t.bool("disable_ipv6", d.disableIpv6()));
    }

    private static StorageSection storage(TableReader t) {
        StorageSection d = StorageSection.defaults();
        return new StorageSection(
                t.optStringList("allowed_host_paths").orElse(d.allowedHostPaths()),
                t.string("volume_default_size", d.volumeDefaultSize()),
                t.string("ossfs_mount_root", d.ossfsMountRoot()));
    }

    private StoreSection store(TableReader t) {
        StoreSection d = StoreSection.defaults(home);
        return new StoreSection(t.string("type", d.type()), t.optString("path").map(this::expand).orElse(d.path()));
    }

    private static SecureRuntimeSection secureRuntime(TableReader t) {
        return new SecureRuntimeSection(t.string("type", SecureRuntimeSection.NONE), t.optString("docker_runtime"),
                t.optString("k8s_runtime_class"));
    }

    private static RenewIntentSection renewIntent(TableReader t) {
        RenewIntentSection d = RenewIntentSection.defaults();
        RenewIntentSection.Redis dr = d.redis();
        TableReader r = t.optTable("redis").orElse(TableReader.empty(t.key("redis")));
        RenewIntentSection.Redis redis = new RenewIntentSection.Redis(
                r.bool("enabled", dr.enabled()),
                r.optString("dsn"),
                r.string("queue_key", dr.queueKey()),
                r.intValue("consumer_concurrency", dr.consumerConcurrency()));
        return new RenewIntentSection(t.bool("enabled", d.enabled()),
                t.seconds("min_interval_seconds", d.minInterval().toSeconds()), redis);
    }

    /** The first entry of {@code $KUBECONFIG} (a path list), {@code ~} expanded. */
    private Optional<Path> kubeconfigFromEnv() {
        String value = env.get("KUBECONFIG");
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        for (String entry : value.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                return Optional.of(expand(entry.strip()));
            }
        }
        return Optional.empty();
    }

    private static int toInt(TableReader t, String name, long value) {
        if (value > Integer.MAX_VALUE) {
            throw ConfigException.at(t.key(name), "is out of range (got " + value + ")");
        }
        return (int) value;
    }

    private static void mustExist(String key, Path file) {
        if (!Files.isRegularFile(file)) {
            throw ConfigException.at(key, "file not found: " + file);
        }
    }

    Path expand(String path) {
        return expandHome(path, home);
    }

    /** Expands a leading {@code ~} (alone or followed by a separator) to {@code home}. */
    static Path expandHome(String path, Path home) {
        if (path.equals("~")) {
            return home;
        }
        if (path.startsWith("~/") || path.startsWith("~" + File.separator)) {
            return home.resolve(path.substring(2));
        }
        return Path.of(path);
    }
}
