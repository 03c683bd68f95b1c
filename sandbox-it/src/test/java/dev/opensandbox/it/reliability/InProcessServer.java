package dev.opensandbox.it.reliability;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import dev.opensandbox.server.Main;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The server as {@code Main} assembles it, in this JVM (so its heap, threads and open files can be
 * measured), from a {@link ServerToml} file. Its logs go to files in the test's directory; closing
 * it stops the server and gives the test JVM its own logging configuration back.
 */
public final class InProcessServer implements AutoCloseable {

    private final Main.Server server;
    private final Api api;
    private final Path dir;

    private InProcessServer(Main.Server server, Path dir, Duration callTimeout) {
        this.server = server;
        this.dir = dir;
        this.api = new Api(server.port(), ServerToml.API_KEY, callTimeout);
    }

    public static InProcessServer start(Path dir, int sweepSeconds, Duration callTimeout) {
        return start(dir, sweepSeconds, 200, callTimeout);
    }

    /** With {@code [server] thread_pool_size}, for measurements that need the pools at their size early. */
    public static InProcessServer start(Path dir, int sweepSeconds, int threadPoolSize, Duration callTimeout) {
        Path config = ServerToml.write(dir, ServerToml.freePort(), sweepSeconds, threadPoolSize);
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove("SANDBOX_CONFIG_PATH");
        env.remove("OPENSANDBOX_SERVER_API_KEY");
        env.put("HOME", dir.toString());
        Main.Launch launch = Main.launch(new String[] {"--config", config.toString()}, env, dir, Clock.systemUTC());
        if (launch.server() == null) {
            restoreTestLogging();
            throw new IllegalStateException("the server did not start (exit " + launch.exitCode() + "):\n"
                + ServerToml.tail(dir.resolve("server.log"), 30));
        }
        return new InProcessServer(launch.server(), dir, callTimeout);
    }

    public Api api() {
        return api;
    }

    public Main.Server server() {
        return server;
    }

    public Path database() {
        return ServerToml.database(dir);
    }

    public Path log() {
        return dir.resolve("server.log");
    }

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            restoreTestLogging();
        }
    }

    /** {@code Main} reset logback for its [log] section; the next test classes log as configured for tests. */
    private static void restoreTestLogging() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        try {
            new ContextInitializer(context).autoConfig();
        } catch (JoranException e) {
            throw new IllegalStateException("cannot restore the test logging configuration", e);
        }
    }
}
