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
    final OutputLog log = new OutputLog(OutputLog.DEFAULT_MAX_BYTES);

    private Instant finishedAt;
    private Integer exitCode;
    private String error;

    CommandRun(String id, SandboxId sandbox, String content, boolean background, Instant startedAt) {
        this.id = id;
        this.sandbox = sandbox;
        this.content = content;
        this.background = background;
        this.startedAt = startedAt;
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
