package dev.opensandbox.server.execd;

import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.SandboxRuntime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs a short POSIX shell script inside a sandbox and captures its output, for the file
 * operations the runtime SPI has no verb for (stat with owner names, listing, moving, removing).
 * Paths and other values travel as positional parameters ({@code "$1"}, {@code "$@"}), never
 * spliced into the script text, so no value can inject shell syntax.
 */
final class SandboxShell {

    /** Output beyond this is dropped and reported as {@link Result#truncated()}. */
    static final int MAX_CAPTURE_BYTES = 16 * 1024 * 1024;
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final SandboxRuntime runtime;

    SandboxShell(SandboxRuntime runtime) {
        this.runtime = runtime;
    }

    record Result(int exitCode, String stdout, String stderr, boolean truncated) {

        List<String> lines() {
            List<String> lines = new ArrayList<>();
            for (String line : stdout.split("\n", -1)) {
                if (!line.isEmpty()) {
                    lines.add(line);
                }
            }
            return lines;
        }

        /** The first line of stderr, for error messages. */
        String reason() {
            String text = stderr.strip();
            int newline = text.indexOf('\n');
            return newline < 0 ? text : text.substring(0, newline);
        }
    }

    Result run(SandboxId id, String script, List<String> args) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", script, "opensandbox-execd"));
        argv.addAll(args);
        Capture capture = new Capture();
        ExecHandle handle = runtime.exec(id, new ExecRequest(argv, Map.of(), null), capture);
        int exit = handle.awaitExit(TIMEOUT);
        return capture.result(exit);
    }

    private static final class Capture implements ExecOutput {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteArrayOutputStream err = new ByteArrayOutputStream();
        private boolean truncated;

        @Override
        public synchronized void stdout(byte[] data, int offset, int length) {
            append(out, data, offset, length);
        }

        @Override
        public synchronized void stderr(byte[] data, int offset, int length) {
            append(err, data, offset, length);
        }

        private void append(ByteArrayOutputStream target, byte[] data, int offset, int length) {
            int room = MAX_CAPTURE_BYTES - target.size();
            if (length > room) {
                truncated = true;
                length = Math.max(room, 0);
            }
            target.write(data, offset, length);
        }

        synchronized Result result(int exit) {
            return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), truncated);
        }
    }
}
