package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.DeadlineExceededException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.ContainerResource;
import io.fabric8.kubernetes.client.dsl.ExecListener;
import io.fabric8.kubernetes.client.dsl.ExecWatch;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Commands in the {@code sandbox} container of a sandbox's pod through the API server's pod exec
 * (WebSocket, stdout on channel 1, stderr on 2, the exit status on 3), for the built-in execd when
 * no daemon is injected.
 *
 * <p>Pod exec has no environment, working directory or user fields: environment and working
 * directory are applied by wrapping the argv ({@code sh -c 'cd ...' } and {@code env K=V}); a
 * user other than the container's is refused (400 {@code SANDBOX::API_NOT_SUPPORTED}), since
 * switching users needs tools and privileges the image may not have.
 */
final class PodExec {

    /** The shell wrapper that enters the working directory; {@code $1} is the directory, the rest the argv. */
    static final String CD_WRAPPER = "cd -- \"$1\" || exit 1; shift; exec \"$@\"";

    private final KubernetesClient client;
    private final String namespace;
    private final Function<SandboxId, Optional<Pod>> cachedPod;
    private final Predicate<SandboxId> sandboxExists;
    private final Function<SandboxId, NotFoundException> notFound;

    /**
     * @param cachedPod     the sandbox's pod as the watch cache sees it (empty when not cached)
     * @param sandboxExists whether the sandbox (its BatchSandbox) exists for this server, to tell 404 from 409
     *                      when it has no pod, and before a pod is looked up outside the cache
     * @param notFound      the runtime's error for an unknown sandbox
     */
    PodExec(KubernetesClient client, String namespace, Function<SandboxId, Optional<Pod>> cachedPod,
            Predicate<SandboxId> sandboxExists, Function<SandboxId, NotFoundException> notFound) {
        this.client = client;
        this.namespace = namespace;
        this.cachedPod = cachedPod;
        this.sandboxExists = sandboxExists;
        this.notFound = notFound;
    }

    /** Starts {@code request} in the sandbox's running pod; output goes to {@code output} as it arrives. */
    ExecHandle exec(SandboxId id, ExecRequest request, ExecOutput output) {
        List<String> argv = argv(request);
        Pod pod = runningPod(id);
        Delivery delivery = new Delivery(output);
        Handle handle = new Handle();
        try {
            ExecWatch watch = container(pod).writingOutput(delivery.stdout()).writingError(delivery.stderr())
                .usingListener(handle).exec(argv.toArray(String[]::new));
            handle.attach(watch);
            // The API server closes after the status; closing from our side too bounds the wait on a peer that does not.
            handle.status.whenComplete((code, error) -> watch.close());
            return handle;
        } catch (KubernetesClientException e) {
            throw translate(id, e, "Failed to run a command in sandbox " + id);
        }
    }

    /**
     * The argv that pod exec runs for {@code request}: the command itself, behind {@code env} when
     * it has environment variables, behind a {@code cd} wrapper when it has a working directory.
     *
     * @throws InvalidRequestException for a user (pod exec cannot switch users) or a variable name with {@code =}
     */
    static List<String> argv(ExecRequest request) {
        if (request.user() != null) {
            throw new InvalidRequestException(ErrorCodes.API_NOT_SUPPORTED, "Running a command as user "
                + request.user() + " is not supported by the Kubernetes runtime without an injected execd: pod exec "
                + "runs commands as the container's user. Omit the user or configure [runtime] execd_image.");
        }
        List<String> argv = new ArrayList<>();
        if (request.workingDir() != null) {
            argv.addAll(List.of("sh", "-c", CD_WRAPPER, "opensandbox-cd", request.workingDir()));
        }
        if (!request.env().isEmpty()) {
            argv.add("env");
            for (Map.Entry<String, String> variable : request.env().entrySet()) {
                String name = variable.getKey();
                if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
                    throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER,
                        "Environment variable name '" + name + "' is not valid.");
                }
                argv.add(name + "=" + variable.getValue());
            }
        }
        argv.addAll(request.command());
        return argv;
    }

    /**
     * The {@code sandbox} container of {@code pod}, for exec and logs. fabric8's own wait for a
     * ready pod (a pod watch per call) is skipped: the caller has just checked the phase.
     */
    ContainerResource container(Pod pod) {
        return client.pods().inNamespace(namespace).withName(pod.getMetadata().getName())
            .inContainer(BatchSandboxes.MAIN_CONTAINER).withReadyWaitTimeout(0);
    }

    /**
     * The sandbox's pod when it runs: from the watch cache, else from the API by the id label.
     *
     * @throws NotFoundException for an unknown sandbox
     * @throws ConflictException when it has no running pod (paused, starting, stopped)
     */
    Pod runningPod(SandboxId id) {
        Pod pod = runningPodOrAny(id);
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if (!"Running".equals(phase) || pod.getMetadata().getDeletionTimestamp() != null) {
            throw new ConflictException(KubernetesErrors.INVALID_STATE,
                "Sandbox " + id + " is not in a running state (pod phase " + phase + ").");
        }
        return pod;
    }

    /**
     * The sandbox's pod in whatever phase (logs outlive the process). A pod the cache does not hold
     * is looked up by the id label only for a sandbox that exists for this server: a pod of another
     * deployment's sandbox with that id is never exec'ed into.
     *
     * @throws NotFoundException for an unknown sandbox
     * @throws ConflictException when it has no pod (paused, not scheduled yet)
     */
    Pod runningPodOrAny(SandboxId id) {
        Pod pod = cachedPod.apply(id).orElseGet(() -> sandboxExists.test(id) ? listPod(id) : null);
        if (pod == null) {
            if (!sandboxExists.test(id)) {
                throw notFound.apply(id);
            }
            throw new ConflictException(KubernetesErrors.INVALID_STATE,
                "Sandbox " + id + " has no running pod (it is paused, starting or stopped).");
        }
        return pod;
    }

    private Pod listPod(SandboxId id) {
        try {
            List<Pod> found = client.pods().inNamespace(namespace).withLabel(Labels.ID, id.toString()).list().getItems();
            return found.isEmpty() ? null : found.get(0);
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate(e, "Failed to read the pod of sandbox " + id);
        }
    }

    /** A failed exec or log call: the pod vanished (404) is the sandbox's not-found, the rest as usual. */
    SandboxException translate(SandboxId id, KubernetesClientException e, String action) {
        if (e.getCode() == 404) {
            return sandboxExists.test(id) ? new ConflictException(KubernetesErrors.INVALID_STATE,
                "Sandbox " + id + " has no running pod: " + KubernetesErrors.describe(e)) : notFound.apply(id);
        }
        return KubernetesErrors.translate(e, action);
    }

    /**
     * Runs a short helper command to its end with both outputs collected (at most {@code limit}
     * bytes each, the rest dropped), for metadata queries whose answer is small.
     */
    Completed run(SandboxId id, List<String> argv, Duration timeout, int limit) {
        Bounded stdout = new Bounded(limit);
        Bounded stderr = new Bounded(limit);
        ExecHandle handle = exec(id, ExecRequest.of(argv.toArray(String[]::new)), new ExecOutput() {
            @Override
            public void stdout(byte[] data, int offset, int length) {
                stdout.write(data, offset, length);
            }

            @Override
            public void stderr(byte[] data, int offset, int length) {
                stderr.write(data, offset, length);
            }
        });
        int exit = handle.awaitExit(timeout);
        return new Completed(exit, stdout.text(), stderr.text());
    }

    /** A finished helper command. */
    record Completed(int exitCode, String stdout, String stderr) {
    }

    /** Keeps the first {@code limit} bytes written to it. */
    static final class Bounded extends OutputStream {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final int limit;

        Bounded(int limit) {
            this.limit = limit;
        }

        @Override
        public synchronized void write(int b) {
            if (kept.size() < limit) {
                kept.write(b);
            }
        }

        @Override
        public synchronized void write(byte[] data, int offset, int length) {
            kept.write(data, offset, Math.max(0, Math.min(length, limit - kept.size())));
        }

        synchronized String text() {
            return kept.toString(StandardCharsets.UTF_8).trim();
        }
    }

    /** Hands both streams to one {@link ExecOutput}, one call at a time (fabric8 writes them from different tasks). */
    private static final class Delivery {
        private final ExecOutput output;

        Delivery(ExecOutput output) {
            this.output = output;
        }

        OutputStream stdout() {
            return stream(true);
        }

        OutputStream stderr() {
            return stream(false);
        }

        private OutputStream stream(boolean stdout) {
            return new OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] data, int offset, int length) {
                    if (length == 0) {
                        return;
                    }
                    synchronized (Delivery.this) {
                        if (stdout) {
                            output.stdout(data, offset, length);
                        } else {
                            output.stderr(data, offset, length);
                        }
                    }
                }
            };
        }
    }

    /**
     * One running exec. Finished when the status channel reported the exit code <em>and</em> the
     * WebSocket closed: fabric8 completes the exit code as soon as the status arrives, while the
     * output before it may still be being written; the close is delivered after those writes.
     */
    static final class Handle implements ExecHandle, ExecListener {
        private final CompletableFuture<Integer> status = new CompletableFuture<>();
        /** How long output written before the status may take to arrive once the status has. */
        static final Duration CLOSE_GRACE = Duration.ofSeconds(2);
        private final CompletableFuture<Void> closed = new CompletableFuture<>();
        private final CompletableFuture<Integer> done = status.thenCombine(closed, (code, ignored) -> code);
        private volatile ExecWatch watch;

        void attach(ExecWatch execWatch) {
            this.watch = execWatch;
            // When both ends close at once (we close on the status, the API server after it), the client may
            // never report the close: past a short grace after the status, the stream counts as closed.
            status.whenComplete((code, error) -> closed.completeOnTimeout(null, CLOSE_GRACE.toMillis(),
                TimeUnit.MILLISECONDS));
            execWatch.exitCode().whenComplete((code, error) -> {
                if (error != null) {
                    status.completeExceptionally(error);
                } else if (code == null) {
                    status.completeExceptionally(new IllegalStateException("the exec stream ended without an exit status"));
                } else {
                    status.complete(code);
                }
            });
        }

        /** The output that the exec wrote to {@code getInput()}, for helpers that stream stdin. */
        ExecWatch watch() {
            return watch;
        }

        @Override
        public void onExit(int code, Status exitStatus) {
            // A status without an exit code (the container runtime could not start the command): fabric8 reports -1.
            if (code < 0) {
                status.completeExceptionally(new IllegalStateException(exitStatus == null || exitStatus.getMessage() == null
                    ? "the command could not be started" : exitStatus.getMessage()));
            }
        }

        @Override
        public void onFailure(Throwable failure, Response response) {
            status.completeExceptionally(failure);
            closed.complete(null);
        }

        @Override
        public void onClose(int code, String reason) {
            closed.complete(null);
            if (!status.isDone()) {
                status.completeExceptionally(new IllegalStateException("the exec stream closed without an exit status ("
                    + code + (reason == null || reason.isBlank() ? "" : " " + reason) + ")"));
            }
        }

        @Override
        public int awaitExit(Duration timeout) {
            try {
                return done.get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new DeadlineExceededException(KubernetesErrors.API_ERROR,
                    "The command did not exit within " + timeout.toSeconds() + " s.");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeFailureException(KubernetesErrors.API_ERROR, "Interrupted waiting for a command.", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                throw new RuntimeFailureException(KubernetesErrors.API_ERROR,
                    "The command failed in the pod: " + KubernetesErrors.describe(cause), cause);
            }
        }

        @Override
        public OptionalInt exitCode() {
            Integer code = done.isDone() && !done.isCompletedExceptionally() ? done.join() : null;
            return code == null ? OptionalInt.empty() : OptionalInt.of(code);
        }

        /** Closes the WebSocket (the process may keep running in the pod: pod exec has no kill). */
        void close() {
            ExecWatch current = watch;
            if (current != null) {
                current.close();
            }
        }
    }
}
