package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.EndpointPurpose;
import dev.opensandbox.core.spi.EndpointRequest;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.FileInfo;
import dev.opensandbox.core.spi.ForwardingSandboxRuntime;
import dev.opensandbox.core.spi.ProvisionRequest;
import dev.opensandbox.core.spi.ResourceUsage;
import dev.opensandbox.core.spi.SandboxRuntime;

import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * The Docker runtime as the provider hands it out: every verb's failure that the engine
 * connection caused becomes a 503 naming the engine and what failed
 * ({@code DOCKER::ENGINE_UNAVAILABLE}, {@code ENGINE_TIMEOUT}, {@code ENGINE_BUSY}; see
 * {@link DockerErrors#engineFault}), in this one place instead of at each of the runtime's catch
 * sites; {@link #probe()} pings the engine. Closing it closes both engine clients.
 */
final class EngineGuardedRuntime extends ForwardingSandboxRuntime {

    private final DockerEngine engine;

    EngineGuardedRuntime(SandboxRuntime runtime, DockerEngine engine) {
        super(runtime);
        this.engine = engine;
    }

    private <T> T guarded(String action, Supplier<T> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            throw DockerErrors.engineFault(e, engine.address(), action).map(RuntimeException.class::cast).orElse(e);
        }
    }

    private void guarded(String action, Runnable call) {
        guarded(action, () -> {
            call.run();
            return null;
        });
    }

    /** Pings the engine within {@code [docker] api_timeout}. */
    @Override
    public void probe() {
        engine.ping();
    }

    @Override
    public void validate(SandboxSpec spec) {
        guarded("check the sandbox request", () -> super.validate(spec));
    }

    @Override
    public Sandbox create(ProvisionRequest request) {
        return guarded("create sandbox " + request.id(), () -> super.create(request));
    }

    @Override
    public Optional<Sandbox> inspect(SandboxId id) {
        return guarded("read sandbox " + id, () -> super.inspect(id));
    }

    @Override
    public List<Sandbox> list() {
        return guarded("list sandboxes", super::list);
    }

    @Override
    public void remove(SandboxId id) {
        guarded("delete sandbox " + id, () -> super.remove(id));
    }

    @Override
    public void pause(SandboxId id) {
        guarded("pause sandbox " + id, () -> super.pause(id));
    }

    @Override
    public void resume(SandboxId id) {
        guarded("resume sandbox " + id, () -> super.resume(id));
    }

    @Override
    public Endpoint resolveEndpoint(SandboxId id, int port, EndpointPurpose purpose) {
        return guarded("resolve port " + port + " of sandbox " + id, () -> super.resolveEndpoint(id, port, purpose));
    }

    @Override
    public Endpoint resolveEndpoint(EndpointRequest request) {
        return guarded("resolve port " + request.port() + " of sandbox " + request.id(),
            () -> super.resolveEndpoint(request));
    }

    @Override
    public ExecHandle exec(SandboxId id, ExecRequest request, ExecOutput output) {
        String action = "run a command in sandbox " + id;
        ExecHandle handle = guarded(action, () -> super.exec(id, request, output));
        return new ExecHandle() {
            @Override
            public int awaitExit(Duration timeout) {
                return guarded(action, () -> handle.awaitExit(timeout));
            }

            @Override
            public OptionalInt exitCode() {
                return guarded(action, handle::exitCode);
            }
        };
    }

    @Override
    public void writeFile(SandboxId id, String path, InputStream content, long size, int mode) {
        guarded("write " + path + " in sandbox " + id, () -> super.writeFile(id, path, content, size, mode));
    }

    @Override
    public InputStream readFile(SandboxId id, String path) {
        return guarded("read " + path + " in sandbox " + id, () -> super.readFile(id, path));
    }

    @Override
    public Optional<FileInfo> statFile(SandboxId id, String path) {
        return guarded("read " + path + " in sandbox " + id, () -> super.statFile(id, path));
    }

    @Override
    public String logs(SandboxId id, int tail, Instant since) {
        return guarded("read the logs of sandbox " + id, () -> super.logs(id, tail, since));
    }

    @Override
    public Optional<String> describe(SandboxId id) {
        return guarded("describe sandbox " + id, () -> super.describe(id));
    }

    @Override
    public Optional<List<String>> events(SandboxId id, int limit) {
        return guarded("read the events of sandbox " + id, () -> super.events(id, limit));
    }

    @Override
    public void renewExpiration(SandboxId id, Instant expiresAt) {
        guarded("renew sandbox " + id, () -> super.renewExpiration(id, expiresAt));
    }

    @Override
    public void patchMetadata(SandboxId id, Map<String, String> patch) {
        guarded("update the metadata of sandbox " + id, () -> super.patchMetadata(id, patch));
    }

    @Override
    public ResourceUsage stats(SandboxId id) {
        return guarded("read the resource usage of sandbox " + id, () -> super.stats(id));
    }

    @Override
    public String commitSnapshot(SandboxId id, String snapshotId) {
        return guarded("snapshot sandbox " + id, () -> super.commitSnapshot(id, snapshotId));
    }

    @Override
    public void deleteSnapshotImage(String image) {
        guarded("delete the snapshot image " + image, () -> super.deleteSnapshotImage(image));
    }

    @Override
    public void deleteSnapshot(String snapshotId, String image) {
        guarded("delete snapshot " + snapshotId, () -> super.deleteSnapshot(snapshotId, image));
    }

    @Override
    public boolean snapshotImageExists(String image) {
        return guarded("look up the snapshot image " + image, () -> super.snapshotImageExists(image));
    }

    @Override
    public void reapOrphans() {
        guarded("remove orphaned helper containers", super::reapOrphans);
    }

    @Override
    public void close() {
        try {
            super.close();
        } finally {
            engine.close();
        }
    }
}
