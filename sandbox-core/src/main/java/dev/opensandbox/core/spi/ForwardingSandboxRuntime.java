package dev.opensandbox.core.spi;

import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxId;

import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A runtime that forwards every verb to another one. Subclass it to decorate a runtime (add
 * metrics, inject faults in tests, slow it down) by overriding only the verbs that change.
 */
public abstract class ForwardingSandboxRuntime implements SandboxRuntime {

    private final SandboxRuntime delegate;

    protected ForwardingSandboxRuntime(SandboxRuntime delegate) {
        this.delegate = delegate;
    }

    /** The runtime every verb goes to. */
    protected SandboxRuntime delegate() {
        return delegate;
    }

    @Override
    public String type() {
        return delegate.type();
    }

    @Override
    public RuntimeCapabilities capabilities() {
        return delegate.capabilities();
    }

    @Override
    public void validate(SandboxSpec spec) {
        delegate.validate(spec);
    }

    @Override
    public Sandbox create(ProvisionRequest request) {
        return delegate.create(request);
    }

    @Override
    public Optional<Sandbox> inspect(SandboxId id) {
        return delegate.inspect(id);
    }

    @Override
    public List<Sandbox> list() {
        return delegate.list();
    }

    @Override
    public void remove(SandboxId id) {
        delegate.remove(id);
    }

    @Override
    public void pause(SandboxId id) {
        delegate.pause(id);
    }

    @Override
    public void resume(SandboxId id) {
        delegate.resume(id);
    }

    @Override
    public Endpoint resolveEndpoint(SandboxId id, int port, EndpointPurpose purpose) {
        return delegate.resolveEndpoint(id, port, purpose);
    }

    /**
     * Unsigned requests go through {@link #resolveEndpoint(SandboxId, int, EndpointPurpose)}, so a
     * decorator that overrides only that method still sees every ordinary endpoint; signed ones go
     * to the delegate.
     */
    @Override
    public Endpoint resolveEndpoint(EndpointRequest request) {
        return request.signed() ? delegate.resolveEndpoint(request)
            : resolveEndpoint(request.id(), request.port(), request.purpose());
    }

    @Override
    public ExecHandle exec(SandboxId id, ExecRequest request, ExecOutput output) {
        return delegate.exec(id, request, output);
    }

    @Override
    public void writeFile(SandboxId id, String path, InputStream content, long size, int mode) {
        delegate.writeFile(id, path, content, size, mode);
    }

    @Override
    public InputStream readFile(SandboxId id, String path) {
        return delegate.readFile(id, path);
    }

    @Override
    public Optional<FileInfo> statFile(SandboxId id, String path) {
        return delegate.statFile(id, path);
    }

    @Override
    public String logs(SandboxId id, int tail, Instant since) {
        return delegate.logs(id, tail, since);
    }

    @Override
    public Optional<String> describe(SandboxId id) {
        return delegate.describe(id);
    }

    @Override
    public Optional<List<String>> events(SandboxId id, int limit) {
        return delegate.events(id, limit);
    }

    @Override
    public void renewExpiration(SandboxId id, Instant expiresAt) {
        delegate.renewExpiration(id, expiresAt);
    }

    @Override
    public void patchMetadata(SandboxId id, java.util.Map<String, String> patch) {
        delegate.patchMetadata(id, patch);
    }

    @Override
    public Optional<String> snapshotImageFor(String snapshotId) {
        return delegate.snapshotImageFor(snapshotId);
    }

    @Override
    public ResourceUsage stats(SandboxId id) {
        return delegate.stats(id);
    }

    @Override
    public String commitSnapshot(SandboxId id, String snapshotId) {
        return delegate.commitSnapshot(id, snapshotId);
    }

    @Override
    public void deleteSnapshotImage(String image) {
        delegate.deleteSnapshotImage(image);
    }

    @Override
    public void deleteSnapshot(String snapshotId, String image) {
        delegate.deleteSnapshot(snapshotId, image);
    }

    @Override
    public boolean snapshotImageExists(String image) {
        return delegate.snapshotImageExists(image);
    }

    @Override
    public void reapOrphans() {
        delegate.reapOrphans();
    }

    @Override
    public void probe() {
        delegate.probe();
    }

    @Override
    public Optional<PoolRuntime> pools() {
        return delegate.pools();
    }

    @Override
    public NotFoundException sandboxNotFound(SandboxId id) {
        return delegate.sandboxNotFound(id);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
