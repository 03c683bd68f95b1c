package dev.opensandbox.server.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.opensandbox.core.Endpoint;
import dev.opensandbox.core.Page;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxStatus;
import dev.opensandbox.core.store.SnapshotRecord;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The JSON shapes of responses, separate from the domain records. Null fields are omitted
 * (clients treat a missing key and a null alike, and upstream omits them); timestamps are
 * RFC 3339 strings in UTC.
 */
final class Responses {

    private Responses() {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ErrorBody(String code, String message) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ImageBody(String uri) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record PlatformBody(String os, String arch) {
        static PlatformBody of(Platform platform) {
            return platform == null ? null : new PlatformBody(platform.os(), platform.arch());
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record StatusBody(String state, String reason, String message, String lastTransitionAt) {
        static StatusBody of(SandboxStatus status) {
            return new StatusBody(status.state().wireName(), status.reason(), status.message(),
                Times.format(status.lastTransitionAt()));
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record SandboxBody(String id, ImageBody image, String snapshotId, PlatformBody platform, StatusBody status,
                       Map<String, String> metadata, List<String> entrypoint, String expiresAt, String createdAt) {
        static SandboxBody of(Sandbox sandbox) {
            return new SandboxBody(sandbox.id().toString(),
                sandbox.image() == null ? null : new ImageBody(sandbox.image()),
                sandbox.snapshotId(), PlatformBody.of(sandbox.platform()), StatusBody.of(sandbox.status()),
                sandbox.metadata().isEmpty() ? null : sandbox.metadata(), sandbox.entrypoint(),
                Times.format(sandbox.expiresAt()), Times.format(sandbox.createdAt()));
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record CreatedSandboxBody(String id, StatusBody status, Map<String, String> metadata, PlatformBody platform,
                              String expiresAt, String createdAt, List<String> entrypoint) {
        static CreatedSandboxBody of(Sandbox sandbox, boolean metadataSent) {
            return new CreatedSandboxBody(sandbox.id().toString(), StatusBody.of(sandbox.status()),
                sandbox.metadata().isEmpty() && !metadataSent ? null : sandbox.metadata(), PlatformBody.of(sandbox.platform()),
                Times.format(sandbox.expiresAt()), Times.format(sandbox.createdAt()), sandbox.entrypoint());
        }
    }

    record PaginationBody(long page, int pageSize, long totalItems, long totalPages, boolean hasNextPage) {
        static PaginationBody of(Page<?> page) {
            return new PaginationBody(page.page(), page.pageSize(), page.totalItems(), page.totalPages(),
                page.hasNextPage());
        }
    }

    record ListBody<T>(List<T> items, PaginationBody pagination) {
        static <D, T> ListBody<T> of(Page<D> page, Function<D, T> mapper) {
            return new ListBody<>(page.items().stream().map(mapper).toList(), PaginationBody.of(page));
        }
    }

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    record EndpointBody(String endpoint, Map<String, String> headers) {
        static EndpointBody of(Endpoint endpoint) {
            return new EndpointBody(endpoint.address(), endpoint.headers());
        }
    }

    record RenewBody(String expiresAt) {
        static RenewBody of(Instant expiresAt) {
            return new RenewBody(Times.format(expiresAt));
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record SnapshotBody(String id, String sandboxId, String name, StatusBody status, String createdAt) {
        static SnapshotBody of(SnapshotRecord snapshot) {
            return new SnapshotBody(snapshot.id(), snapshot.sourceSandboxId(), snapshot.name(),
                new StatusBody(snapshot.state().name(), snapshot.reason(), snapshot.message(),
                    Times.format(snapshot.lastTransitionAt())),
                Times.format(snapshot.createdAt()));
        }
    }

    /** {@code {"status":"healthy"}} as upstream; when unhealthy also the {@code code} and {@code message} of the failure. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record HealthBody(String status, String code, String message) {
        static HealthBody of(HealthProbe.Status health) {
            return health.healthy() ? new HealthBody("healthy", null, null)
                : new HealthBody("unhealthy", health.code(), health.message());
        }
    }
}
