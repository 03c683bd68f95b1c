package dev.opensandbox.it.fuzz;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import dev.opensandbox.server.Main;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The real server as {@code Main.launch} starts it from a TOML file — configuration loading, the
 * API-key guard, logging, store, runtime, HTTP — on a free loopback port, with its main and access
 * logs written to files in a test directory so that tests can read every line it logged. Closing
 * it stops the server and gives the JVM the test logging configuration back.
 */
public final class LaunchedServer implements AutoCloseable {

    private final Main.Server server;
    private final Path serverLog;
    private final Path accessLog;

    private LaunchedServer(Main.Server server, Path serverLog, Path accessLog) {
        this.server = server;
        this.serverLog = serverLog;
        this.accessLog = accessLog;
    }

    /** A configuration to start from: {@code [runtime] type}, logs in {@code dir}, the given tables added. */
    public static Config config(Path dir, String runtimeType) {
        return new Config(dir, runtimeType);
    }

    /** The TOML tables of one start; values are written as TOML literals by the caller. */
    public static final class Config {
        private final Path dir;
        private final Map<String, Map<String, String>> tables = new LinkedHashMap<>();

        private Config(Path dir, String runtimeType) {
            this.dir = dir;
            set("runtime", "type", quoted(runtimeType));
            set("server", "host", quoted("127.0.0.1"));
            set("store", "type", quoted("memory"));
            set("log", "level", quoted("INFO"));
            set("log", "file_enabled", "true");
            set("log", "file_path", quoted(dir.resolve("server.log").toString()));
            set("log", "access_file_path", quoted(dir.resolve("access.log").toString()));
        }

        /** Sets {@code [table] key = literal}; the literal is TOML ({@code "text"}, {@code 5}, {@code true}, {@code ["a"]}). */
        public Config set(String table, String key, String literal) {
            tables.computeIfAbsent(table, t -> new LinkedHashMap<>()).put(key, literal);
            return this;
        }

        String render(int port) {
            StringBuilder toml = new StringBuilder();
            tables.forEach((table, values) -> {
                toml.append('[').append(table).append("]\n");
                if (table.equals("server")) {
                    toml.append("port = ").append(port).append('\n');
                }
                values.forEach((key, literal) -> toml.append(key).append(" = ").append(literal).append('\n'));
            });
            return toml.toString();
        }

        /**
         * Starts the server. A port taken between choosing and binding it (other tests run beside
         * this one) is retried on another port.
         *
         * @throws IllegalStateException when {@code Main} refuses to start, with the server log
         */
        public LaunchedServer start(Map<String, String> env, Clock clock) {
            Main.Launch launch = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                launch = launch(env, clock);
                if (launch.server() != null) {
                    return new LaunchedServer(launch.server(), dir.resolve("server.log"), dir.resolve("access.log"));
                }
            }
            throw new IllegalStateException("Main.launch exited with " + launch.exitCode() + "; server log:\n"
                + read(dir.resolve("server.log")));
        }

        /** One start as {@code main} would do it, without exiting the JVM: the exit code and the server, if any. */
        public Main.Launch launch(Map<String, String> env, Clock clock) {
            try {
                Files.createDirectories(dir);
                Path file = Files.writeString(dir.resolve("server.toml"), render(freePort()), StandardCharsets.UTF_8);
                Main.Launch launch = Main.launch(new String[] {"--config", file.toString()}, env, dir, clock);
                if (launch.server() == null) {
                    restoreTestLogging();
                }
                return launch;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    public static String quoted(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> out.append(c);
            }
        }
        return out.append('"').toString();
    }

    public Main.Server server() {
        return server;
    }

    public int port() {
        return server.port();
    }

    public String base() {
        return "http://127.0.0.1:" + port();
    }

    public Path serverLog() {
        return serverLog;
    }

    public Path accessLog() {
        return accessLog;
    }

    /** Everything the server logged so far (main and access log). */
    public String logs() {
        return read(serverLog) + read(accessLog);
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Main configured logback for a real server (files only); give the tests of this JVM their set-up back. */
    static void restoreTestLogging() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        try {
            new ContextInitializer(context).autoConfig();
        } catch (ch.qos.logback.core.joran.spi.JoranException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.close();
        restoreTestLogging();
    }
}
