package dev.opensandbox.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    private static final String DOCKER = "[runtime]\ntype = \"docker\"\n";

    @TempDir
    Path home;

    private Path write(String name, String content) throws IOException {
        Path file = home.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    private ConfigLoader loader(Map<String, String> env) {
        return new ConfigLoader(env, home);
    }

    private LoadedConfig load(String content) throws IOException {
        return loader(Map.of()).loadFile(write("config.toml", content));
    }

    private ConfigException loadFails(String content) throws IOException {
        Path file = write("config.toml", content);
        return assertThrows(ConfigException.class, () -> loader(Map.of()).loadFile(file));
    }

    @Test
    void cliConfigBeatsEnvVariableWhichBeatsHomeFile() throws IOException {
        Path cli = write("cli.toml", DOCKER + "[server]\nport = 1001\n");
        Path fromEnv = write("env.toml", DOCKER + "[server]\nport = 1002\n");
        write(".sandbox.toml", DOCKER + "[server]\nport = 1003\n");
        Map<String, String> env = Map.of("SANDBOX_CONFIG_PATH", fromEnv.toString());

        assertEquals(1001, loader(env).load(Optional.of(cli.toString())).config().server().port());
        assertEquals(1002, loader(env).load(Optional.empty()).config().server().port());
        assertEquals(1003, loader(Map.of("SANDBOX_CONFIG_PATH", "")).load(Optional.empty()).config().server().port());
    }

    @Test
    void homeComesFromHomeVariableBeforeUserHomeProperty(@TempDir Path otherHome) throws IOException {
        Files.writeString(otherHome.resolve(".sandbox.toml"), DOCKER + "[server]\nport = 1234\n");
        ConfigLoader loader = new ConfigLoader(Map.of("HOME", otherHome.toString()), home);

        assertEquals(otherHome, loader.home());
        assertEquals(1234, loader.load(Optional.empty()).config().server().port());
        assertEquals(home, new ConfigLoader(Map.of("HOME", ""), home).home());
    }

    @Test
    void tildeInConfigPathExpandsToHome() throws IOException {
        write("conf/x.toml", DOCKER + "[server]\nport = 4321\n");

        LoadedConfig loaded = loader(Map.of()).load(Optional.of("~/conf/x.toml"));

        assertEquals(4321, loaded.config().server().port());
        assertEquals(Optional.of(home.resolve("conf/x.toml")), loaded.config().source());
    }

    @Test
    void missingFileNamedByCliIsAnErrorNamingIt() {
        Path missing = home.resolve("nope.toml");
        ConfigException e = assertThrows(ConfigException.class,
                () -> loader(Map.of()).load(Optional.of(missing.toString())));
        assertTrue(e.getMessage().startsWith(missing + ": configuration file not found"), e.getMessage());
        assertTrue(e.getMessage().contains("--config"), e.getMessage());
    }

    @Test
    void missingFileNamedByEnvVariableIsAnErrorNamingIt() {
        Path missing = home.resolve("gone.toml");
        ConfigException e = assertThrows(ConfigException.class,
                () -> loader(Map.of("SANDBOX_CONFIG_PATH", missing.toString())).load(Optional.empty()));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("SANDBOX_CONFIG_PATH"), e.getMessage());
    }

    @Test
    void missingDefaultFileStartsOnEmbeddedDefaultsAndSaysWhereItLooked() {
        LoadedConfig loaded = loader(Map.of()).load(Optional.empty());

        assertTrue(loaded.usingEmbeddedDefaults());
        assertEquals(Optional.empty(), loaded.config().source());
        assertEquals(List.of(home.resolve(".sandbox.toml")), loaded.searched());
        assertEquals("docker", loaded.config().runtime().type());
        assertEquals(home.resolve(".opensandbox/opensandbox.db"), loaded.config().store().path());
        assertEquals("No configuration file at " + home.resolve(".sandbox.toml")
                + "; using embedded defaults (runtime=docker, store=sqlite:" + home.resolve(".opensandbox/opensandbox.db")
                + ")", loaded.notices().get(0));
        assertEquals(List.of(), loaded.warnings());
    }

    @Test
    void theProxyCanBeMadeToRequireTheApiKey() throws IOException {
        ServerConfig c = load("[server]\nproxy_requires_api_key = true\n" + DOCKER).config();

        assertTrue(c.server().proxyRequiresApiKey());
        assertTrue(c.server().withApiKey(Optional.of("k")).proxyRequiresApiKey(), "kept by the env override");
    }

    @Test
    void secureAccessCanBeRequiredForEverySandbox() throws IOException {
        ServerConfig c = load("[server]\nrequire_secure_access = true\n" + DOCKER).config();

        assertTrue(c.server().requireSecureAccess());
        assertTrue(c.server().withApiKey(Optional.empty()).requireSecureAccess(), "kept by the env override");
    }

    @Test
    void theJsonBodyLimitIsOneMebibyteUnlessSetAndAtLeastOneByte() throws IOException {
        assertEquals(1024 * 1024, load(DOCKER).config().server().maxRequestBodyBytes());
        ServerConfig c = load("[server]\nmax_request_body_bytes = 65536\n" + DOCKER).config();
        assertEquals(65536, c.server().maxRequestBodyBytes());
        assertEquals(65536, c.server().withApiKey(Optional.of("k")).maxRequestBodyBytes(), "kept by the env override");
        ConfigException e = assertThrows(ConfigException.class,
            () -> load("[server]\nmax_request_body_bytes = 0\n" + DOCKER));
        assertTrue(e.getMessage().contains("server.max_request_body_bytes"), e.getMessage());
    }

    @Test
    void resourceDefaultsMaximaAndVisibleEnvironmentAreRead() throws IOException {
        ServerConfig c = load("[server]\ndefault_resource_limits = { cpu = \"500m\", memory = \"1Gi\" }\n"
            + "max_resource_limits = { cpu = \"2\", memory = \"4Gi\" }\ndiagnostics_visible_env = [\"PATH\", \"LANG\"]\n"
            + DOCKER).config();

        assertEquals(Map.of("cpu", "500m", "memory", "1Gi"), c.server().defaultResourceLimits());
        assertEquals(Map.of("cpu", "2", "memory", "4Gi"), c.server().maxResourceLimits());
        assertEquals(List.of("PATH", "LANG"), c.server().diagnosticsVisibleEnv());
        assertEquals(c.server().maxResourceLimits(), c.server().withApiKey(Optional.empty()).maxResourceLimits(),
            "kept by the env override");
    }

    @Test
    void resourceBoundsAreCheckedAtStart() throws IOException {
        assertEquals("server: default_resource_limits.memory: Invalid resourceLimits.memory 'lots': expected an "
            + "integer with an optional unit such as 512Mi, 1Gi or 1G.",
            loadFails("[server]\ndefault_resource_limits = { memory = \"lots\" }\n" + DOCKER).getMessage()
                .replaceFirst("^.*?: server", "server"));
        assertTrue(loadFails("[server]\nmax_resource_limits = { gpu = \"1\" }\n" + DOCKER).getMessage()
            .endsWith("max_resource_limits may name cpu and memory only, not 'gpu'"));
        assertTrue(loadFails("[server]\ndefault_resource_limits = { cpu = \"4\" }\nmax_resource_limits = { cpu = \"2\" }\n"
            + DOCKER).getMessage().endsWith("default_resource_limits.cpu '4' is above max_resource_limits.cpu '2'"));
    }

    @Test
    void minimalFileGetsEveryUpstreamDefault() throws IOException {
        ServerConfig c = load(DOCKER).config();

        ServerSection s = c.server();
        assertEquals("0.0.0.0", s.host());
        assertEquals(8080, s.port());
        assertEquals(Duration.ofSeconds(30), s.keepAliveTimeout());
        assertEquals(OptionalInt.of(1024), s.limitConcurrency());
        assertEquals(2048, s.backlog());
        assertEquals(200, s.threadPoolSize());
        assertEquals("auto", s.loop());
        assertEquals("auto", s.http());
        assertEquals(Optional.empty(), s.apiKey());
        assertFalse(s.authenticationEnabled());
        assertEquals(Optional.empty(), s.eip());
        assertEquals(Optional.empty(), s.maxSandboxTimeout());
        assertEquals(List.of("*"), s.corsAllowedOrigins());
        assertEquals(Duration.ofSeconds(10), s.sweepInterval());
        assertEquals(false, s.proxyRequiresApiKey());
        assertEquals(false, s.requireSecureAccess());
        assertEquals(Map.of(), s.defaultResourceLimits(), "no default limits, as upstream");
        assertEquals(Map.of(), s.maxResourceLimits());
        assertEquals(dev.opensandbox.core.Secrets.DEFAULT_VISIBLE_ENV, s.diagnosticsVisibleEnv());

        LogSection log = c.log();
        assertEquals("INFO", log.level());
        assertFalse(log.fileEnabled());
        assertEquals(home.resolve("logs/opensandbox/server.log"), log.filePath());
        assertEquals(home.resolve("logs/opensandbox/access.log"), log.accessFilePath());
        assertEquals(104_857_600L, log.fileMaxBytes());
        assertEquals(5, log.fileBackupCount());
        assertEquals("text", log.format());

        assertEquals(Optional.empty(), c.runtime().execdImage());

        DockerSection d = c.docker();
        assertEquals("bridge", d.networkMode(), "bridge, not upstream's host: host mode shares the host's loopback");
        assertEquals(Optional.of(Duration.ofSeconds(180)), d.apiTimeout());
        assertEquals(Optional.empty(), d.hostIp());
        assertEquals(List.of("AUDIT_WRITE", "MKNOD", "NET_ADMIN", "NET_RAW", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE",
                "SYS_TIME", "SYS_TTY_CONFIG"), d.dropCapabilities());
        assertEquals(Optional.empty(), d.apparmorProfile());
        assertTrue(d.noNewPrivileges());
        assertEquals(Optional.empty(), d.seccompProfile());
        assertEquals(OptionalLong.of(4096), d.pidsLimit());
        assertEquals("0.0.0.0", d.portBindAddress());

        assertEquals(Optional.empty(), c.kubernetes());
        assertEquals(Optional.empty(), c.agentSandbox());
        assertEquals(IngressSection.defaults(), c.ingress());
        assertEquals("direct", c.ingress().mode());
        assertEquals(new EgressSection(Optional.empty(), "dns", true), c.egress());
        assertEquals(new StorageSection(List.of(), "1Gi", "/mnt/ossfs"), c.storage());
        assertEquals(new StoreSection("sqlite", home.resolve(".opensandbox/opensandbox.db")), c.store());
        assertEquals("", c.secureRuntime().type());
        assertFalse(c.secureRuntime().enabled());

        RenewIntentSection r = c.renewIntent();
        assertFalse(r.enabled());
        assertEquals(Duration.ofSeconds(60), r.minInterval());
        assertFalse(r.redis().enabled());
        assertEquals(Optional.empty(), r.redis().dsn());
        assertEquals("opensandbox:renew:intent", r.redis().queueKey());
        assertEquals(8, r.redis().consumerConcurrency());
    }

    @Test
    void kubernetesRuntimeGetsKubernetesDefaults() throws IOException {
        KubernetesSection k = load("[runtime]\ntype = \"kubernetes\"\n").config().kubernetes().orElseThrow();

        assertEquals(Optional.empty(), k.kubeconfigPath());
        assertEquals(KubernetesSection.KubeconfigOrigin.IN_CLUSTER, k.kubeconfigOrigin());
        assertEquals(KubernetesSection.WorkloadProvider.BATCHSANDBOX, k.workloadProvider());
        assertEquals("IfNotPresent", k.imagePullPolicy());
        assertEquals(Duration.ofSeconds(60), k.sandboxCreateTimeout());
        assertEquals(Duration.ofSeconds(1), k.sandboxCreatePollInterval());
        assertEquals(Duration.ofSeconds(900), k.snapshotCreateTimeout());
        assertTrue(k.informerEnabled());
        assertEquals(Duration.ofSeconds(300), k.informerResync());
        assertEquals(Duration.ofSeconds(60), k.informerWatchTimeout());
        assertEquals(0.0, k.readQps());
        assertEquals(0, k.readBurst());
        assertEquals(0.0, k.writeQps());
        assertEquals(0, k.writeBurst());
        assertEquals(Optional.empty(), k.execdInitResources());
    }

    @Test
    void apiKeyEnvVariableReplacesTheFileKey() throws IOException {
        Path file = write("c.toml", DOCKER + "[server]\napi_key = \"from-file\"\n");

        ServerConfig c = loader(Map.of("OPENSANDBOX_SERVER_API_KEY", "from-env")).loadFile(file).config();

        assertEquals(Optional.of("from-env"), c.server().apiKey());
    }

    @Test
    void emptyApiKeyEnvVariableStillOverridesAndDisablesAuthentication() throws IOException {
        Path file = write("c.toml", DOCKER + "[server]\napi_key = \"from-file\"\n");

        ServerConfig c = loader(Map.of("OPENSANDBOX_SERVER_API_KEY", "")).loadFile(file).config();

        assertEquals(Optional.empty(), c.server().apiKey());
        assertFalse(c.server().authenticationEnabled());
    }

    @Test
    void apiKeyEnvVariableAppliesToEmbeddedDefaults() {
        LoadedConfig loaded = loader(Map.of("OPENSANDBOX_SERVER_API_KEY", "k")).load(Optional.empty());
        assertEquals(Optional.of("k"), loaded.config().server().apiKey());
    }

    @Test
    void whitespaceApiKeyCountsAsNoKey() throws IOException {
        assertEquals(Optional.empty(), load(DOCKER + "[server]\napi_key = \"   \"\n").config().server().apiKey());
    }

    @Test
    void malformedTomlNamesFileLineAndColumn() throws IOException {
        ConfigException e = loadFails("[server]\nport = 8080\nhost = \n");
        assertTrue(e.getMessage().startsWith(home.resolve("config.toml") + ": malformed TOML at line 3, column"),
                e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[server]\\nport = 70000|server.port: must be between 1 and 65535 (got 70000)",
        "[log]\\nlevel = \"LOUD\"|log.level: must be one of",
        "[server]\\nlimit_concurrency = -1|server.limit_concurrency: must be at least 0, where 0 means unlimited (got -1)",
        "[server]\\nmax_sandbox_timeout_seconds = 30|server.max_sandbox_timeout_seconds: must be at least 60 (got 30)",
        "[server]\\nport = 9000.5|server.port: must be a whole number (got 9000.5)",
        "[server]\\napi_key = 123|server.api_key: must be a string (got integer 123)",
        "[log]\\nfile_enabled = \"yes\"|log.file_enabled: must be true or false",
        "[server]\\nloop = \"trio\"|server.loop: must be one of",
        "[store]\\ntype = \"postgres\"|store.type: must be one of",
        "[egress]\\nimage = \"\"|egress.image: must not be empty",
        "[egress]\\nmode = \"nft\"|egress.mode: must be one of",
        "[renew_intent]\\nmin_interval_seconds = 0|renew_intent.min_interval_seconds: must be at least 1",
        "[docker]\\napi_timeout = -5|docker.api_timeout: must be at least 0",
        "[server]\\ncors_allowed_origins = [\"https://a.example/\"]|server.cors_allowed_origins:",
        "[execd]\\nmax_log_bytes_per_command = 10|execd.max_log_bytes_per_command: must be between 1024 and",
        "[execd]\\nmax_log_bytes_per_sandbox = 1024|execd.max_log_bytes_per_sandbox: must be at least 8388608",
        "[execd]\\nmax_log_bytes_per_server = 2048|execd.max_log_bytes_per_server: must be at least 33554432",
        "[execd]\\nfinished_command_retention_seconds = -1|execd.finished_command_retention_seconds: must be between 0",
        "[execd]\\nread_log_retention_seconds = 9999999999|execd.read_log_retention_seconds: must be between 0",
    })
    void badValueErrorNamesFileAndDottedKey(String section, String expected) throws IOException {
        ConfigException e = loadFails(DOCKER + section.replace("\\n", "\n") + "\n");
        String prefix = home.resolve("config.toml") + ": ";
        assertTrue(e.getMessage().startsWith(prefix + expected), e.getMessage());
    }

    @Test
    void runtimeSectionIsRequiredInAFile() throws IOException {
        ConfigException e = loadFails("[server]\nport = 8080\n");
        assertTrue(e.getMessage().contains(": runtime: section is required"), e.getMessage());
    }

    @Test
    void runtimeTypeIsExactLowercase() throws IOException {
        ConfigException e = loadFails("[runtime]\ntype = \"Docker\"\n");
        assertTrue(e.getMessage().contains("runtime.type: must be"), e.getMessage());
    }

    @Test
    void unknownRuntimeIdIsAcceptedForThirdPartyProviders() throws IOException {
        assertEquals("firecracker-vm", load("[runtime]\ntype = \"firecracker-vm\"\n").config().runtime().type());
    }

    @Test
    void logLevelIsCaseInsensitiveAndMapsToLogback() throws IOException {
        LogSection log = load(DOCKER + "[log]\nlevel = \"warning\"\n").config().log();
        assertEquals("WARNING", log.level());
        assertEquals("WARN", log.logbackLevel());
    }

    @Test
    void logAndStorePathsExpandTilde() throws IOException {
        ServerConfig c = load(DOCKER + "[log]\nfile_path = \"~/x/server.log\"\n[store]\npath = \"~/db/s.db\"\n").config();
        assertEquals(home.resolve("x/server.log"), c.log().filePath());
        assertEquals(home.resolve("db/s.db"), c.store().path());
    }

    @Test
    void unknownKeysAndSectionsAreWarningsNamingTheDottedKey() throws IOException {
        LoadedConfig loaded = load(DOCKER + "[server]\nprot = 1\n[renew_intent]\nredis.dns = \"x\"\n[metrics]\non = true\n");

        String file = home.resolve("config.toml") + ": ";
        assertEquals(List.of(file + "unknown key server.prot is ignored",
                file + "unknown key renew_intent.redis.dns is ignored",
                file + "unknown section [metrics] is ignored"), loaded.warnings());
    }

    @Test
    void legacyKeysAreAcceptedQuietly() throws IOException {
        LoadedConfig loaded = load("[runtime]\ntype = \"docker\"\negress_image = \"old\"\n"
                + "[server]\nworkers = 4\n[pause]\nenabled = true\n");
        assertEquals(List.of(), loaded.warnings());
    }

    @Test
    void serverLogLevelWarnsWithHintToUseLogLevel() throws IOException {
        LoadedConfig loaded = load(DOCKER + "[server]\nlog_level = \"DEBUG\"\n");
        assertEquals(1, loaded.warnings().size());
        assertTrue(loaded.warnings().get(0).contains("server.log_level"));
        assertTrue(loaded.warnings().get(0).contains("use [log] level"));
        assertEquals("INFO", loaded.config().log().level());
    }

    @Test
    void loopAndHttpAreAcceptedWithANotice() throws IOException {
        LoadedConfig loaded = load(DOCKER + "[server]\nloop = \"uvloop\"\nhttp = \"h11\"\n");
        assertEquals("uvloop", loaded.config().server().loop());
        assertEquals(2, loaded.notices().size());
        assertTrue(loaded.notices().get(0).startsWith("server.loop is accepted"));
    }

    @Test
    void integersAcceptIntegralFloatsAndNumericStrings() throws IOException {
        assertEquals(9000, load(DOCKER + "[server]\nport = \"9000\"\n").config().server().port());
        assertEquals(9000, load(DOCKER + "[server]\nport = 9000.0\n").config().server().port());
    }

    @Test
    void floatFieldsAcceptIntegers() throws IOException {
        KubernetesSection k = load("[runtime]\ntype = \"kubernetes\"\n[kubernetes]\nread_qps = 5\n"
                + "sandbox_create_poll_interval_seconds = 0.25\n").config().kubernetes().orElseThrow();
        assertEquals(5.0, k.readQps());
        assertEquals(Duration.ofMillis(250), k.sandboxCreatePollInterval());
    }

    @Test
    void limitConcurrencyZeroMeansUnlimited() throws IOException {
        assertEquals(OptionalInt.empty(),
                load(DOCKER + "[server]\nlimit_concurrency = 0\n").config().server().limitConcurrency());
    }

    @Test
    void execdBoundsAndRetentionHaveDefaultsAndCanBeSet() throws IOException {
        assertEquals(new ExecdSection(8L << 20, 32L << 20, 128L << 20, Duration.ofSeconds(600), Duration.ofSeconds(60)),
                load(DOCKER).config().execd());
        ExecdSection set = load(DOCKER + "[execd]\nmax_log_bytes_per_command = 1048576\nmax_log_bytes_per_sandbox = 2097152\n"
                + "max_log_bytes_per_server = 4194304\nfinished_command_retention_seconds = 30\n"
                + "read_log_retention_seconds = 0\n").config().execd();
        assertEquals(new ExecdSection(1L << 20, 2L << 20, 4L << 20, Duration.ofSeconds(30), Duration.ZERO), set);
    }

    @Test
    void eipIsStrippedAndBlankIsUnset() throws IOException {
        assertEquals(Optional.of("1.2.3.4"), load(DOCKER + "[server]\neip = \" 1.2.3.4 \"\n").config().server().eip());
        assertEquals(Optional.empty(), load(DOCKER + "[server]\neip = \"  \"\n").config().server().eip());
    }

    @Test
    void dottedRedisKeysEqualTheRedisSubTable() throws IOException {
        RenewIntentSection dotted = load(DOCKER + "[renew_intent]\nenabled = true\nredis.enabled = true\n"
                + "redis.dsn = \"redis://h:6379/0\"\nredis.consumer_concurrency = 3\n").config().renewIntent();
        RenewIntentSection table = load(DOCKER + "[renew_intent]\nenabled = true\n[renew_intent.redis]\nenabled = true\n"
                + "dsn = \"redis://h:6379/0\"\nconsumer_concurrency = 3\n").config().renewIntent();

        assertEquals(dotted, table);
        assertEquals(Optional.of("redis://h:6379/0"), table.redis().dsn());
        assertEquals(3, table.redis().consumerConcurrency());
    }

    @Test
    void redisDsnIsRequiredWhenRedisIsEnabledEvenWithMasterSwitchOff() throws IOException {
        ConfigException e = loadFails(DOCKER + "[renew_intent]\nenabled = false\nredis.enabled = true\n");
        assertTrue(e.getMessage().contains("renew_intent.redis.dsn: is required"), e.getMessage());
    }

    @Test
    void dottedGatewayKeysEqualTheGatewaySubTables() throws IOException {
        String k8s = "[runtime]\ntype = \"kubernetes\"\n";
        IngressSection dotted = load(k8s + "[ingress]\nmode = \"gateway\"\ngateway.address = \"*.sb.example.com\"\n"
                + "gateway.route.mode = \"wildcard\"\n").config().ingress();
        IngressSection tables = load(k8s + "[ingress]\nmode = \"gateway\"\n[ingress.gateway]\n"
                + "address = \"*.sb.example.com\"\n[ingress.gateway.route]\nmode = \"wildcard\"\n").config().ingress();

        assertEquals(dotted, tables);
        assertEquals(new IngressSection.Gateway("*.sb.example.com", "wildcard"), tables.gateway().orElseThrow());
    }

    @Test
    @SuppressWarnings("unchecked")
    void rawTablesHoldTheWholeFileAsNestedPlainMaps() throws IOException {
        ServerConfig c = load(DOCKER + "[renew_intent]\nredis.queue_key = \"q\"\n"
                + "[my_runtime]\nendpoint = \"x\"\nports = [1, 2]\nratio = 0.5\n[my_runtime.nested]\ndeep = true\n")
                .config();

        Map<String, Object> raw = c.rawTables();
        assertEquals("docker", ((Map<String, Object>) raw.get("runtime")).get("type"));
        Map<String, Object> redis = (Map<String, Object>) ((Map<String, Object>) raw.get("renew_intent")).get("redis");
        assertEquals("q", redis.get("queue_key"));
        Map<String, Object> mine = c.rawSection("my_runtime");
        assertEquals("x", mine.get("endpoint"));
        assertEquals(List.of(1L, 2L), mine.get("ports"));
        assertEquals(0.5, mine.get("ratio"));
        assertEquals(true, ((Map<String, Object>) mine.get("nested")).get("deep"));
        assertInstanceOf(Map.class, mine.get("nested"));
        assertThrows(UnsupportedOperationException.class, () -> raw.put("x", 1));
    }

    @Test
    void executionInitResourcesReadAsInlineTableOfStringMaps() throws IOException {
        KubernetesSection k = load("[runtime]\ntype = \"kubernetes\"\n[kubernetes]\nexecd_init_resources = "
                + "{ limits = { cpu = \"100m\", memory = \"64Mi\" }, requests = { cpu = \"50m\" } }\n")
                .config().kubernetes().orElseThrow();
        KubernetesSection.ResourceRequirements r = k.execdInitResources().orElseThrow();
        assertEquals(Map.of("cpu", "100m", "memory", "64Mi"), r.limits());
        assertEquals(Map.of("cpu", "50m"), r.requests());
    }
}
