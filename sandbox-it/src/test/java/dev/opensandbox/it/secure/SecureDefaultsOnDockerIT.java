package dev.opensandbox.it.secure;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.it.fuzz.DockerCli;
import dev.opensandbox.it.fuzz.LaunchedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import static dev.opensandbox.it.secure.SecureHttp.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Secure defaults of the whole server ({@code Main.launch}) on the real engine: the containers it
 * creates are hardened as configured (inspected on the engine and from inside), no API key,
 * secure-access token, egress token or secret environment value reaches a log line or the
 * diagnostics, and per-sandbox secure access guards the proxy and the built-in execd of real
 * containers. Everything created carries this run's label and is removed afterwards.
 */
class SecureDefaultsOnDockerIT {

    static final String IMAGE = System.getenv().getOrDefault("OPENSANDBOX_TEST_BUSYBOX_IMAGE",
        "opensandbox-test/busybox:latest");
    static final String EGRESS_IMAGE = System.getenv().getOrDefault("OPENSANDBOX_TEST_EGRESS_IMAGE",
        "opensandbox-test/egress:latest");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RUN = UUID.randomUUID().toString();
    private static final String API_KEY = "sec-api-key-" + UUID.randomUUID();
    /** The default drop list of [docker] drop_capabilities, with each capability's bit in /proc/<pid>/status. */
    private static final Map<String, Integer> DEFAULT_DROPPED = Map.of("AUDIT_WRITE", 29, "MKNOD", 27, "NET_ADMIN", 12,
        "NET_RAW", 13, "SYS_ADMIN", 21, "SYS_MODULE", 16, "SYS_PTRACE", 19, "SYS_TIME", 25, "SYS_TTY_CONFIG", 26);

    private static Path dir;
    private static LaunchedServer server;
    private static SecureHttp http;
    private static final List<String> created = new ArrayList<>();

    @BeforeAll
    static void startServer() throws Exception {
        assumeTrue(DockerCli.engineAvailable(), "no Docker engine reachable: `docker info` failed");
        dir = Files.createTempDirectory("secure-defaults-");
        server = LaunchedServer.config(dir, "docker")
            .set("deployment", "id", LaunchedServer.quoted("secure-" + java.util.UUID.randomUUID().toString().substring(0, 8)))
            .set("server", "api_key", LaunchedServer.quoted(API_KEY))
            .set("docker", "network_mode", "\"bridge\"")
            .set("docker", "port_bind_address", "\"127.0.0.1\"")
            .set("egress", "image", LaunchedServer.quoted(EGRESS_IMAGE))
            .start(Map.of(), Clock.systemUTC());
        // What production logs at the default level, plus this project's own debug lines.
        ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger("dev.opensandbox").setLevel(Level.DEBUG);
        http = new SecureHttp(server.port(), API_KEY);
    }

    @AfterAll
    static void removeEverything() {
        if (server != null) {
            server.close();
        }
        List<String> containers = new ArrayList<>(DockerCli.containersLabelled("run", RUN));
        for (String id : created) {
            containers.addAll(DockerCli.containersLabelled("opensandbox.io/id", id));
            containers.addAll(DockerCli.containersLabelled("opensandbox.io/egress-sidecar-for", id));
        }
        DockerCli.removeContainers(containers.stream().distinct().toList());
    }

    private static String create(String body) throws Exception {
        String id = http.createSandbox(body);
        created.add(id);
        return id;
    }

    /**
     * A create with a network policy, tried up to three times: on this shared engine another
     * server's reconcile pass may remove the egress sidecar of a create in flight as an orphan
     * (issue 11), which fails the create with SANDBOX_START_FAILED.
     */
    private static String createWithEgress(String body) throws Exception {
        SecureHttp.Reply last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            last = http.send("POST", "/v1/sandboxes", body, Map.of());
            if (last.status() == 202) {
                String id = http.json(last).path("id").asText();
                created.add(id);
                return id;
            }
        }
        throw new AssertionError("a create with a network policy failed three times: " + last);
    }

    private static String sleeper(String extra) {
        return "{\"image\":{\"uri\":\"" + IMAGE + "\"},\"entrypoint\":[\"sleep\",\"3600\"],\"timeout\":600,"
            + "\"resourceLimits\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"},"
            + "\"metadata\":{\"suite\":\"secure-defaults\",\"run\":\"" + RUN + "\"}" + extra + "}";
    }

    private static JsonNode inspect(String sandbox) throws Exception {
        return JSON.readTree(DockerCli.run("inspect", "sandbox-" + sandbox).orFail().out()).get(0);
    }

    private static String procStatus(String sandbox) {
        return DockerCli.run("exec", "sandbox-" + sandbox, "cat", "/proc/1/status").orFail().out();
    }

    private static long statusField(String status, String field) {
        for (String line : status.split("\n")) {
            if (line.startsWith(field + ":")) {
                String value = line.substring(field.length() + 1).trim();
                return field.startsWith("Cap") ? Long.parseUnsignedLong(value, 16) : Long.parseLong(value);
            }
        }
        throw new AssertionError(field + " missing from /proc/1/status:\n" + status);
    }

    private static Set<String> capDrop(JsonNode host) {
        Set<String> dropped = new TreeSet<>();
        host.path("CapDrop").forEach(c -> dropped.add(c.asText().replaceFirst("^CAP_", "")));
        return dropped;
    }

    private static boolean engineHasAppArmor() {
        return DockerCli.run("info", "--format", "{{json .SecurityOptions}}").out().contains("apparmor");
    }

    @Test
    @DisplayName("a created container is unprivileged, without new privileges, with the default capability drop list,"
        + " a PID limit, the engine's seccomp filter and the requested memory and CPU")
    void createdContainersCarryTheHardenedDefaults() throws Exception {
        String id = create(sleeper(""));
        JsonNode host = inspect(id).path("HostConfig");

        assertFalse(host.path("Privileged").asBoolean(true), "not privileged");
        List<String> securityOpt = new ArrayList<>();
        host.path("SecurityOpt").forEach(o -> securityOpt.add(o.asText()));
        assertTrue(securityOpt.contains("no-new-privileges:true"), "SecurityOpt " + securityOpt);
        assertTrue(securityOpt.stream().noneMatch(o -> o.contains("unconfined")), "nothing unconfined: " + securityOpt);
        if (!engineHasAppArmor()) {
            assertTrue(securityOpt.stream().noneMatch(o -> o.startsWith("apparmor")), "no AppArmor option by default");
        }
        assertTrue(capDrop(host).containsAll(DEFAULT_DROPPED.keySet()), "CapDrop " + capDrop(host));
        assertTrue(host.path("CapAdd").isNull() || host.path("CapAdd").isEmpty(), "CapAdd " + host.path("CapAdd"));
        assertEquals(4096, host.path("PidsLimit").asLong(), "PidsLimit");
        assertEquals(128L * 1024 * 1024, host.path("Memory").asLong(), "Memory as requested");
        assertEquals(500_000_000L, host.path("NanoCpus").asLong(), "NanoCpus as requested");
        assertEquals("bridge", host.path("NetworkMode").asText());

        String status = procStatus(id);
        assertEquals(1, statusField(status, "NoNewPrivs"), "the kernel sees no_new_privs");
        assertEquals(2, statusField(status, "Seccomp"), "a seccomp filter is on (the engine's default profile)");
        long bounding = statusField(status, "CapBnd");
        for (Map.Entry<String, Integer> cap : DEFAULT_DROPPED.entrySet()) {
            assertEquals(0, bounding & (1L << cap.getValue()), cap.getKey() + " is out of the bounding set");
        }
    }

    @Test
    @DisplayName("configured hardening reaches the container: a custom seccomp profile, drop list and PID limit")
    void configuredHardeningReachesTheContainer() throws Exception {
        Path configDir = Files.createTempDirectory(dir, "hardened-");
        // Allows everything but mkdir: a profile whose effect a test can see.
        String profile = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],"
            + "\"action\":\"SCMP_ACT_ERRNO\"}]}";
        Path profileFile = Files.writeString(configDir.resolve("no-mkdir.json"), profile);
        LaunchedServer.Config config = LaunchedServer.config(configDir, "docker")
            .set("deployment", "id", LaunchedServer.quoted("secure-" + java.util.UUID.randomUUID().toString().substring(0, 8)))
            .set("server", "api_key", LaunchedServer.quoted(API_KEY))
            .set("docker", "network_mode", "\"bridge\"")
            .set("docker", "seccomp_profile", LaunchedServer.quoted(profileFile.toString()))
            .set("docker", "drop_capabilities", "[\"CHOWN\", \"NET_RAW\", \"SETUID\"]")
            .set("docker", "pids_limit", "64");
        boolean appArmor = engineHasAppArmor();
        if (appArmor) {
            config.set("docker", "apparmor_profile", "\"docker-default\"");
        }
        try (LaunchedServer hardened = config.start(Map.of(), Clock.systemUTC())) {
            String id = new SecureHttp(hardened.port(), API_KEY).createSandbox(sleeper(""));
            created.add(id);
            JsonNode host = inspect(id).path("HostConfig");

            List<String> securityOpt = new ArrayList<>();
            host.path("SecurityOpt").forEach(o -> securityOpt.add(o.asText()));
            String seccomp = securityOpt.stream().filter(o -> o.startsWith("seccomp=")).findFirst()
                .orElseThrow(() -> new AssertionError("no seccomp option in " + securityOpt));
            assertEquals(JSON.readTree(profile), JSON.readTree(seccomp.substring("seccomp=".length())), "the profile's content");
            assertTrue(securityOpt.contains("no-new-privileges:true"), securityOpt.toString());
            if (appArmor) {
                assertEquals("docker-default", inspect(id).path("AppArmorProfile").asText());
            }
            assertEquals(Set.of("CHOWN", "NET_RAW", "SETUID"), capDrop(host));
            assertEquals(64, host.path("PidsLimit").asLong());

            DockerCli.Result mkdir = DockerCli.run("exec", "sandbox-" + id, "mkdir", "/tmp/blocked");
            assertTrue(mkdir.exit() != 0 && mkdir.err().contains("not permitted"), "the profile blocks mkdir: " + mkdir);
            long bounding = statusField(procStatus(id), "CapBnd");
            assertEquals(0, bounding & (1L << 0 | 1L << 13 | 1L << 7), "CHOWN, NET_RAW and SETUID dropped");
        }
    }

    @Test
    @DisplayName("no API key, secure-access token, egress token, registry password or secret environment value"
        + " appears in any log line, nor in diagnostics inspect and summary")
    void noSecretReachesTheLogsOrTheDiagnostics() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("MY_PASSWD", "pw-" + tag + "-passwd");
        env.put("GH_PAT", "ghp_" + tag + "PersonalAccessToken");
        env.put("DATABASE_URL", "postgres://app:dbpw-" + tag + "@db.invalid/app");
        env.put("CREDENTIALS", "cred-" + tag + "-credentials");
        env.put("API_TOKEN", "tok-" + tag + "-token");
        env.put("AWS_SECRET_ACCESS_KEY", "aws-" + tag + "-secret");
        String registryPassword = "regpw-" + tag;
        String wrongKey = "wrong-key-" + tag;
        String body = sleeper(",\"secureAccess\":true,\"env\":" + JSON.writeValueAsString(env)
            + ",\"networkPolicy\":{\"defaultAction\":\"deny\",\"egress\":[{\"action\":\"allow\",\"target\":\"pypi.org\"}]}")
            .replace("{\"uri\":\"" + IMAGE + "\"}", "{\"uri\":\"" + IMAGE + "\",\"auth\":{\"username\":\"fuzz\",\"password\":\""
                + registryPassword + "\"}}");
        String id = createWithEgress(body);
        String token = http.secureAccessToken(id);
        String egressToken = inspect(id).path("Config").path("Labels").path("opensandbox.io/egress-auth-token").asText("");
        assertFalse(egressToken.isEmpty(), "the sandbox has an egress sidecar with a token");

        Map<String, String> withToken = Map.of(SecureHttp.SECURE_HEADER, token);
        List<SecureHttp.Reply> replies = new ArrayList<>();
        replies.add(http.send("GET", "/v1/sandboxes/" + id, null, Map.of()));
        replies.add(http.send("GET", "/v1/sandboxes?metadata=run%3D" + RUN, null, Map.of()));
        replies.add(http.send("GET", "/v1/sandboxes/" + id + "/endpoints/8080", null, Map.of()));
        replies.add(http.send("POST", "/v1/sandboxes/" + id + "/renew-expiration",
            "{\"expiresAt\":\"" + Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS) + "\"}", Map.of()));
        replies.add(http.send("PATCH", "/v1/sandboxes/" + id + "/metadata", "{\"team\":\"secure\"}", Map.of()));
        replies.add(http.send("GET", "/sandboxes/" + id + "/proxy/44772/ping", null, withToken));
        replies.add(http.send("POST", "/sandboxes/" + id + "/proxy/44772/command",
            "{\"command\":\"echo ran\",\"envs\":{\"SESSION_PASSWORD\":\"cmdpw-" + tag + "\"}}", withToken));
        replies.add(http.send("GET", "/sandboxes/" + id + "/proxy/8080/", null, withToken));
        replies.add(http.send("GET", "/sandboxes/" + id + "/proxy/8080/", null, Map.of(SecureHttp.SECURE_HEADER, "x" + token)));
        replies.add(new SecureHttp(server.port(), wrongKey).send("GET", "/v1/sandboxes/" + id, null, Map.of()));
        replies.add(http.send("GET", "/v1/sandboxes/" + id + "/diagnostics/logs", null, Map.of()));
        replies.add(http.send("GET", "/v1/sandboxes/" + id + "/diagnostics/events", null, Map.of()));
        SecureHttp.Reply inspect = http.send("GET", "/v1/sandboxes/" + id + "/diagnostics/inspect", null, Map.of());
        SecureHttp.Reply summary = http.send("GET", "/v1/sandboxes/" + id + "/diagnostics/summary", null, Map.of());
        replies.add(http.send("POST", "/v1/sandboxes/" + id + "/pause", null, Map.of()));
        replies.add(http.send("POST", "/v1/sandboxes/" + id + "/resume", null, Map.of()));
        replies.add(http.send("DELETE", "/v1/sandboxes/" + id, null, Map.of()));
        assertEquals(200, inspect.status(), inspect.toString());
        assertEquals(200, summary.status(), summary.toString());
        assertTrue(inspect.body().contains("MY_PASSWD"), "inspect lists the environment by name:\n" + inspect.body());

        Map<String, String> secrets = new LinkedHashMap<>();
        env.forEach((name, value) -> secrets.put("env " + name, value));
        secrets.put("env SESSION_PASSWORD of a command", "cmdpw-" + tag);
        secrets.put("registry password", registryPassword);
        secrets.put("secure-access token", token);
        secrets.put("egress token", egressToken);
        List<String> leaks = new ArrayList<>();
        for (Map.Entry<String, String> secret : secrets.entrySet()) {
            if (inspect.body().contains(secret.getValue())) {
                leaks.add(secret.getKey() + " in diagnostics/inspect");
            }
            if (summary.body().contains(secret.getValue())) {
                leaks.add(secret.getKey() + " in diagnostics/summary");
            }
        }
        secrets.put("API key", API_KEY);
        secrets.put("a presented wrong API key", wrongKey);
        String logs = server.logs();
        assertTrue(logs.contains("sandbox=" + id), "the scanned log is the one the server wrote about this sandbox");
        for (Map.Entry<String, String> secret : secrets.entrySet()) {
            for (String line : logs.split("\n")) {
                if (line.contains(secret.getValue())) {
                    leaks.add(secret.getKey() + " in a log line: " + line);
                }
            }
        }
        assertTrue(leaks.isEmpty(), "secrets shown (" + replies.size() + " calls made, statuses "
            + replies.stream().map(SecureHttp.Reply::status).toList() + "):\n  " + String.join("\n  ", leaks));
    }

    @Test
    @DisplayName("secure access guards the proxy and the built-in execd of a real container: no token or a wrong one"
        + " is 401 JSON, the right one reaches the sandbox's own web server")
    void secureAccessGuardsTheProxyAndExecdOfRealContainers() throws Exception {
        String id = create(sleeper(",\"secureAccess\":true").replace("\"entrypoint\":[\"sleep\",\"3600\"]",
            "\"entrypoint\":[\"sh\",\"-c\",\"mkdir -p /tmp/www && echo hello > /tmp/www/index.html"
                + " && httpd -p 8080 -h /tmp/www; exec sleep 3600\"]"));
        String token = http.secureAccessToken(id);
        for (String prefix : List.of("", "/v1")) {
            String page = prefix + "/sandboxes/" + id + "/proxy/8080/index.html";
            assertRefused(http.send("GET", page, null, Map.of()), "PROXY::SECURE_ACCESS_REQUIRED");
            assertRefused(http.send("GET", page, null, Map.of(SecureHttp.SECURE_HEADER, token + "x")),
                "PROXY::SECURE_ACCESS_INVALID");
            SecureHttp.Reply served = http.send("GET", page, null, Map.of(SecureHttp.SECURE_HEADER, token));
            assertEquals(200, served.status(), served.toString());
            assertEquals("hello\n", served.body());

            String ping = prefix + "/sandboxes/" + id + "/proxy/44772/ping";
            assertRefused(http.send("GET", ping, null, Map.of()), "PROXY::SECURE_ACCESS_REQUIRED");
            assertRefused(http.send("GET", ping, null, Map.of(SecureHttp.SECURE_HEADER, "wrong")), "PROXY::SECURE_ACCESS_INVALID");
            assertEquals(200, http.send("GET", ping, null, Map.of(SecureHttp.SECURE_HEADER, token)).status());

            assertRefused(http.webSocketHandshake(prefix + "/sandboxes/" + id + "/proxy/8080/ws", null),
                "PROXY::SECURE_ACCESS_REQUIRED");
        }
    }
}
