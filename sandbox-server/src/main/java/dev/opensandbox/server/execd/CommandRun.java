package dev.opensandbox.server.execd;

import dev.opensandbox.core.SandboxId;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * One command started through {@code POST /command}: what {@code /command/status/{id}} and
 * {@code /command/{id}/logs} report, and what {@code DELETE /command?id=} needs to signal it.
 */
final class CommandRun {

    final String id;
    final SandboxId sandbox;
    final String content;
    final boolean background;
    final Instant startedAt;
    /** The process id of the command's shell inside the sandbox: the leader of its process group. */
    final CompletableFuture<Integer> pid = new CompletableFuture<>();
    /** What a background command printed, within the store's bounds; a foreground run's only counts. */
    final OutputLog log;

    private Instant finishedAt;
    private Integer exitCode;
    private String error;
    private Instant logReleaseAt;

    CommandRun(String id, SandboxId sandbox, String content, boolean background, Instant startedAt, OutputLog log) {
        this.id = id;
        this.sandbox = sandbox;
        this.content = content;
        this.background = background;
        this.startedAt = startedAt;
        this.log = log;
    }

    /**
     * A read reached the end of the finished output: it goes at {@code at} unless it goes earlier.
     *
     * @return when the output goes
     */
    synchronized Instant outputRead(Instant at) {
        if (logReleaseAt == null || at.isBefore(logReleaseAt)) {
            logReleaseAt = at;
        }
        return logReleaseAt;
    }

    /** When the output goes because it was read to its end; null while unread or running. */
    synchronized Instant logReleaseAt() {
        return logReleaseAt;
    }

    synchronized void finish(Instant at, int code, String failure) {
        if (finishedAt != null) {
            return;
        }
        finishedAt = at;
        exitCode = code;
        error = failure;
    }

    /** Records why the command will end (a timeout, an interrupt) before its exit is seen. */
    synchronized void noteError(String failure) {
        if (finishedAt == null && error == null) {
            error = failure;
        }
    }

    synchronized boolean running() {
        return finishedAt == null;
    }

    synchronized Instant finishedAt() {
        return finishedAt;
    }

    synchronized Integer exitCode() {
        return exitCode;
    }

    synchronized String error() {
        return error;
    }
}
