package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.FileInfo;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ExecWatch;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * File contents and metadata of a sandbox through pod exec ({@link PodExec}) and small POSIX
 * shell scripts that take the path as an argument (never spliced into the script). Contents are
 * streamed both ways through the exec's stdin and stdout, so memory stays bounded whatever the
 * file size. Needs {@code sh}, {@code cat}, {@code head}, {@code wc}, {@code stat} in the image
 * (coreutils or busybox).
 */
final class PodFiles {

    static final String FILE_NOT_FOUND = "KUBERNETES::FILE_NOT_FOUND";
    static final String INVALID_FILE_PATH = "KUBERNETES::INVALID_FILE_PATH";
    static final String FILE_TRANSFER_FAILED = "KUBERNETES::FILE_TRANSFER_FAILED";

    /** How long a file command may take once its data has been sent (or before its first byte arrives). */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    /** Exit codes of the scripts below. */
    private static final int MISSING = 2;
    private static final int DIRECTORY = 21;
    private static final int PERMISSION = 13;

    /** Prints one marker byte before the contents, so that a failure (no marker) is told from an empty file. */
    static final String READ_SCRIPT = "[ -d \"$1\" ] && exit 21; [ -e \"$1\" ] || exit 2; [ -r \"$1\" ] || exit 13; "
        + "printf O; exec cat -- \"$1\"";
    /**
     * Takes exactly {@code $2} bytes from stdin ({@code head -c}: no need for stdin to be closed,
     * which older exec protocols cannot signal) into a temporary file next to the target, checks the
     * size, sets the mode {@code $3} and renames it over the target.
     */
    static final String WRITE_SCRIPT = "[ -d \"$1\" ] && exit 21; mkdir -p -- \"$(dirname -- \"$1\")\" || exit 1; "
        + "t=\"$1.opensandbox-upload-$$\"; "
        + "if head -c \"$2\" > \"$t\" && [ \"$(wc -c < \"$t\")\" -eq \"$2\" ] && chmod \"$3\" \"$t\" && mv -f -- \"$t\" \"$1\"; "
        + "then exit 0; fi; rm -f -- \"$t\"; exit 1";
    /** Size, raw mode in hex (type and permission bits) and modification time; follows symlinks like read. */
    static final String STAT_SCRIPT = "[ -e \"$1\" ] || exit 2; exec stat -L -c '%s %f %Y' -- \"$1\"";

    private static final int STDERR_LIMIT = 4096;
    /** Below the usual 64 KiB WebSocket frame limit with the channel byte added. */
    private static final int CHUNK = 16 * 1024;

    private final PodExec exec;

    PodFiles(PodExec exec) {
        this.exec = exec;
    }

    InputStream readFile(SandboxId id, String path) {
        checkPath(path);
        Pod pod = exec.runningPod(id);
        PodExec.Handle handle = new PodExec.Handle();
        PodExec.Bounded stderr = new PodExec.Bounded(STDERR_LIMIT);
        ExecWatch watch = start(id, () -> exec.container(pod).redirectingOutput().writingError(stderr)
            .usingListener(handle).exec("sh", "-c", READ_SCRIPT, "opensandbox-read", path), "read " + path);
        handle.attach(watch);
        InputStream contents = watch.getOutput();
        try {
            int marker = contents.read();
            if (marker == 'O') {
                return new FilterInputStream(contents) {
                    @Override
                    public int read(byte[] buffer, int offset, int length) throws IOException {
                        // fabric8's stream asserts on zero-length reads.
                        return length == 0 ? 0 : super.read(buffer, offset, length);
                    }

                    @Override
                    public void close() {
                        watch.close();
                    }
                };
            }
        } catch (IOException e) {
            // fabric8 fails the output stream when the command exits non-zero: the exit code says why.
            int exit;
            try {
                exit = handle.awaitExit(COMMAND_TIMEOUT);
            } finally {
                watch.close();
            }
            throw failure(id, path, "read", exit, stderr.text());
        }
        try {
            throw failure(id, path, "read", handle.awaitExit(COMMAND_TIMEOUT), stderr.text());
        } finally {
            watch.close();
        }
    }

    void writeFile(SandboxId id, String path, InputStream content, long size, int mode) {
        checkPath(path);
        if (size < 0) {
            throw new InvalidRequestException(INVALID_FILE_PATH, "Cannot write " + path + ": negative size " + size + ".");
        }
        Pod pod = exec.runningPod(id);
        PodExec.Handle handle = new PodExec.Handle();
        PodExec.Bounded stderr = new PodExec.Bounded(STDERR_LIMIT);
        ExecWatch watch = start(id, () -> exec.container(pod).redirectingInput().writingOutput(OutputStream.nullOutputStream())
            .writingError(stderr).usingListener(handle).exec("sh", "-c", WRITE_SCRIPT, "opensandbox-write", path,
                Long.toString(size), Integer.toOctalString(mode & 07777)), "write " + path);
        handle.attach(watch);
        try {
            OutputStream stdin = watch.getInput();
            byte[] buffer = new byte[CHUNK];
            long remaining = size;
            while (remaining > 0) {
                int read = content.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                if (read < 0) {
                    throw new InvalidRequestException(INVALID_FILE_PATH, "Cannot write " + path + ": the content ended "
                        + remaining + " bytes before the announced size " + size + ".");
                }
                stdin.write(buffer, 0, read);
                remaining -= read;
            }
            stdin.flush();
            int exit = handle.awaitExit(COMMAND_TIMEOUT);
            if (exit != 0) {
                throw failure(id, path, "write", exit, stderr.text());
            }
        } catch (IOException e) {
            throw transferFailed(id, "write " + path, e.getMessage(), e);
        } finally {
            watch.close();
        }
    }

    Optional<FileInfo> statFile(SandboxId id, String path) {
        checkPath(path);
        PodExec.Completed result = exec.run(id, List.of("sh", "-c", STAT_SCRIPT, "opensandbox-stat", path),
            COMMAND_TIMEOUT, STDERR_LIMIT);
        if (result.exitCode() == MISSING) {
            return Optional.empty();
        }
        if (result.exitCode() != 0) {
            throw failure(id, path, "stat", result.exitCode(), result.stderr());
        }
        return Optional.of(parseStat(path, result.stdout()));
    }

    /** {@code stat -c '%s %f %Y'}: size, raw mode in hex, modification time in epoch seconds. */
    static FileInfo parseStat(String path, String line) {
        String[] fields = line.trim().split("\\s+");
        try {
            long size = Long.parseLong(fields[0]);
            int raw = Integer.parseInt(fields[1], 16);
            boolean directory = (raw & 0170000) == 0040000;
            Instant modified = fields.length > 2 ? Instant.ofEpochSecond(Long.parseLong(fields[2])) : null;
            return new FileInfo(path, directory ? 0 : size, raw & 07777, directory, modified);
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(FILE_TRANSFER_FAILED, "Unexpected stat output for " + path + ": " + line, e);
        }
    }

    /** Absolute, without {@code ..} or NUL: the same rule as the Docker runtime. */
    static void checkPath(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new InvalidRequestException(INVALID_FILE_PATH, "File path must be absolute: " + path);
        }
        if (path.indexOf('\0') >= 0 || List.of(path.split("/")).contains("..")) {
            throw new InvalidRequestException(INVALID_FILE_PATH, "File path must not contain '..': " + path);
        }
    }

    private interface Starter {
        ExecWatch start();
    }

    private ExecWatch start(SandboxId id, Starter starter, String action) {
        try {
            return starter.start();
        } catch (KubernetesClientException e) {
            throw exec.translate(id, e, "Failed to " + action + " in sandbox " + id);
        }
    }

    private static SandboxException failure(SandboxId id, String path, String verb, int exit, String stderr) {
        return switch (exit) {
            case MISSING -> new NotFoundException(FILE_NOT_FOUND, "File " + path + " not found in sandbox " + id + ".");
            case DIRECTORY -> new InvalidRequestException(INVALID_FILE_PATH,
                "Cannot " + verb + " " + path + ": it is a directory.");
            case PERMISSION -> new InvalidRequestException(INVALID_FILE_PATH,
                "Cannot " + verb + " " + path + ": permission denied.");
            default -> transferFailed(id, verb + " " + path, "exit code " + exit
                + (stderr.isEmpty() ? "" : ": " + stderr), null);
        };
    }

    private static RuntimeFailureException transferFailed(SandboxId id, String action, String detail, Throwable cause) {
        return new RuntimeFailureException(FILE_TRANSFER_FAILED, "Failed to " + action + " in sandbox " + id + ": " + detail,
            cause);
    }
}
