package dev.opensandbox.it.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A server configuration file for the reliability suites: the Docker runtime on the default bridge
 * with ports published on loopback, the egress sidecar image, a SQLite store, an API key, a short
 * sweep interval, and logs in files of the test's directory.
 */
public final class ServerToml {

    public static final String API_KEY = "reliability-key";
    public static final String BUSYBOX = System.getenv()
        .getOrDefault("OPENSANDBOX_TEST_BUSYBOX_IMAGE", "opensandbox-test/busybox:latest");
    public static final String EGRESS = System.getenv()
        .getOrDefault("OPENSANDBOX_TEST_EGRESS_IMAGE", "opensandbox-test/egress:latest");

    private ServerToml() {
    }

    /** Writes {@code dir/server.toml} with the default thread pool and returns its path; the database is {@code dir/store.db}. */
    public static Path write(Path dir, int port, int sweepSeconds) {
        return write(dir, port, sweepSeconds, 200);
    }

    /** As {@link #write(Path, int, int)}, with {@code [server] thread_pool_size}. */
    public static Path write(Path dir, int port, int sweepSeconds, int threadPoolSize) {
        String toml = """
            [server]
            host = "127.0.0.1"
            port = %d
            api_key = "%s"
            sweep_interval_seconds = %d
            thread_pool_size = %d

            [log]
            level = "INFO"
            file_enabled = true
            file_path = '%s'
            access_file_path = '%s'

            [runtime]
            type = "docker"

            [docker]
            network_mode = "bridge"
            port_bind_address = "127.0.0.1"

            [egress]
            image = "%s"

            [store]
            type = "sqlite"
            path = '%s'
            """.formatted(port, API_KEY, sweepSeconds, threadPoolSize, dir.resolve("server.log"), dir.resolve("access.log"), EGRESS,
            database(dir));
        Path file = dir.resolve("server.toml");
        try {
            Files.writeString(file, toml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    public static Path database(Path dir) {
        return dir.resolve("store.db");
    }

    /** A loopback port nothing listens on right now. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last {@code lines} lines of a log file, for failure messages. */
    public static String tail(Path file, int lines) {
        try {
            if (!Files.exists(file)) {
                return "(no " + file.getFileName() + ")";
            }
            var all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }
}
