package dev.opensandbox.core.memory;

import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.ExecHandle;
import dev.opensandbox.core.spi.ExecOutput;
import dev.opensandbox.core.spi.ExecRequest;
import dev.opensandbox.core.spi.ProvisionRequest;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** Requests and output capture shared by the in-memory runtime tests. */
final class Fixtures {

    static final String IMAGE = "python:3.11";

    private Fixtures() {
    }

    static ProvisionRequest request(SandboxId id, Instant createdAt, String... entrypoint) {
        SandboxSpec spec = SandboxSpec.builder().image(IMAGE).entrypoint(entrypoint).build();
        return new ProvisionRequest(id, spec, ImageSpec.of(IMAGE), List.of(entrypoint), ResourceLimits.none(),
            createdAt, null);
    }

    static ProvisionRequest request(SandboxId id, SandboxSpec spec, String image, Instant createdAt) {
        return new ProvisionRequest(id, spec, ImageSpec.of(image), spec.entrypoint(), ResourceLimits.none(),
            createdAt, null);
    }

    /** Output and status of one exec. */
    record Result(int exitCode, String stdout, String stderr, byte[] stdoutBytes) {
    }

    static Result exec(InMemorySandboxRuntime runtime, SandboxId id, ExecRequest request) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ExecHandle handle = runtime.exec(id, request, new ExecOutput() {
            @Override
            public void stdout(byte[] data, int offset, int length) {
                out.write(data, offset, length);
            }

            @Override
            public void stderr(byte[] data, int offset, int length) {
                err.write(data, offset, length);
            }
        });
        int exitCode = handle.awaitExit(Duration.ofSeconds(1));
        return new Result(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
            out.toByteArray());
    }

    static Result sh(InMemorySandboxRuntime runtime, SandboxId id, String script) {
        return exec(runtime, id, ExecRequest.of("sh", "-c", script));
    }
}
