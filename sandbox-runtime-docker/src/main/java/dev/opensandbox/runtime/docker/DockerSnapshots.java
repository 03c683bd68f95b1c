package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.ContainerConfig;
import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.DeadlineExceededException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.SandboxId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Snapshots on Docker, as upstream: {@code docker commit} (pausing the container for the
 * duration, a paused one stays paused) to the local image {@code opensandbox-snapshots:<snapshotId>},
 * which a restore runs; no push, no export.
 *
 * <p>Upstream commits the container's configuration unchanged, so a restored sandbox inherits
 * the source's labels and injected environment (W11: its expiry, metadata, egress token...).
 * Docker's commit cannot drop a key (it merges the container's labels and env back into the
 * configuration it is given, and a new container merges the image's in turn), so the commit
 * overrides them instead:
 * <ul>
 *   <li>labels: those the source image brought keep the image's value; every other one (upstream's
 *       and our {@code opensandbox.io/*}, user metadata) is blanked. A restore sets its own id,
 *       expiry or manual cleanup, image, entrypoint and network mode over them, and a blank label
 *       the image brought is neither metadata, platform nor port. The image is labelled with
 *       {@code opensandbox.io/snapshot-id} and {@code opensandbox.io/source-sandbox-id} (the keys
 *       the Kubernetes runtime puts on its snapshots), so snapshot images can be found;</li>
 *   <li>env: entries the source image brought keep the image's value; every injected variable is
 *       written as a bare {@code KEY}, which Docker reads as "unset" when it starts a process
 *       (container or exec); {@code PATH} gets Docker's default instead, since a bare {@code PATH}
 *       would remove it.</li>
 * </ul>
 * The filesystem (not volumes), entrypoint, user and working directory are committed as Docker does.
 */
final class DockerSnapshots {

    static final String REPOSITORY = "opensandbox-snapshots";
    static final String SOURCE_SANDBOX_LABEL = "opensandbox.io/source-sandbox-id";
    /** What Docker gives a Linux container without a {@code PATH}. */
    static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private static final Logger LOG = LoggerFactory.getLogger(DockerSnapshots.class);
    /** Docker's tag grammar. */
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

    private final DockerClient docker;
    private final Duration commitTimeout;
    private final Function<SandboxId, NotFoundException> sandboxNotFound;
    private final Ownership ownership;

    DockerSnapshots(DockerClient docker, Duration commitTimeout, Function<SandboxId, NotFoundException> sandboxNotFound,
                    Ownership ownership) {
        this.docker = docker;
        this.commitTimeout = commitTimeout;
        this.sandboxNotFound = sandboxNotFound;
        this.ownership = ownership;
    }

    /** The image of a snapshot: repository {@value #REPOSITORY}, tag = the snapshot id. */
    static String imageOf(String snapshotId) {
        if (snapshotId == null || !TAG.matcher(snapshotId).matches()) {
            throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER,
                "Snapshot id '" + snapshotId + "' cannot be a Docker image tag.");
        }
        return REPOSITORY + ":" + snapshotId;
    }

    static boolean isSnapshotImage(String image) {
        return image != null && image.startsWith(REPOSITORY + ":")
            && TAG.matcher(image.substring(REPOSITORY.length() + 1)).matches();
    }

    /**
     * Snapshot images are local: a restore whose image is missing (removed outside the server, or
     * of another platform) fails here instead of asking a registry for {@code opensandbox-snapshots}.
     */
    static void refusePull(String image, Platform platform) {
        if (isSnapshotImage(image)) {
            throw new RuntimeFailureException(DockerErrors.IMAGE_PULL_FAILED, "Snapshot image " + image
                + " is not on this Docker engine" + (platform == null ? "" : " for " + platform.os() + "/" + platform.arch())
                + "; snapshot images stay on the engine that took them and are never pulled.");
        }
    }

    /**
     * Commits a sandbox's container.
     *
     * @return {@code opensandbox-snapshots:<snapshotId>}
     */
    String commit(SandboxId id, InspectContainerResponse container, String snapshotId) {
        String image = imageOf(snapshotId);
        ContainerConfig own = container.getConfig();
        ContainerConfig base = sourceImageConfig(id, container);
        List<String> env = env(list(own == null ? null : own.getEnv()), list(base == null ? null : base.getEnv()));
        Map<String, String> labels = ownership.stamp(labels(own == null ? null : own.getLabels(),
            base == null ? null : base.getLabels(), id, snapshotId));
        long started = System.nanoTime();
        try {
            docker.commitCmd(container.getId())
                .withRepository(REPOSITORY)
                .withTag(snapshotId)
                .withPause(true)
                .withEnv(env.toArray(new String[0]))
                .withLabels(labels)
                .withMessage("OpenSandbox snapshot " + snapshotId + " of sandbox " + id)
                .exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
            throw sandboxNotFound.apply(id);
        } catch (RuntimeException e) {
            if (DockerErrors.timedOut(e)) {
                // The engine may still finish: do not leave a tag behind a Failed record (W5) if it already has.
                removeQuietly(image);
                throw new DeadlineExceededException(DockerErrors.SNAPSHOT_TIMEOUT, "Snapshot of sandbox " + id
                    + " did not finish within " + commitTimeout.toSeconds() + " s (the engine's time for a commit: "
                    + "[docker] api_timeout, at least 10 minutes).", e);
            }
            throw new RuntimeFailureException(DockerErrors.SNAPSHOT_FAILED,
                "Failed to snapshot sandbox " + id + ": " + DockerErrors.describe(e), e);
        }
        LOG.info("Sandbox {} committed as {} in {} ms", id, image,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        return image;
    }

    /** The configuration the sandbox's image brought, to tell it from what the server injected. */
    private ContainerConfig sourceImageConfig(SandboxId id, InspectContainerResponse container) {
        try {
            return docker.inspectImageCmd(container.getImageId()).exec().getConfig();
        } catch (RuntimeException e) {
            // A running or paused container's image cannot be removed, so this is rare: refuse rather
            // than commit a configuration whose injected part cannot be told apart.
            throw new RuntimeFailureException(DockerErrors.SNAPSHOT_FAILED, "Failed to snapshot sandbox " + id
                + ": cannot read its image " + container.getImageId() + ": " + DockerErrors.describe(e), e);
        }
    }

    /**
     * Removes a snapshot image without force. A missing image is fine; an image a container still
     * uses is a conflict; a reference outside {@value #REPOSITORY}, or an image of another
     * deployment, is never removed (not ours).
     */
    void delete(String image) {
        if (!isSnapshotImage(image)) {
            LOG.warn("Not removing image {}: only {}:<snapshotId> images are snapshots", image, REPOSITORY);
            return;
        }
        try {
            ContainerConfig config = docker.inspectImageCmd(image).exec().getConfig();
            if (!ownership.owns(config == null ? null : config.getLabels())) {
                LOG.info("Snapshot image {} belongs to another deployment; left in place", image);
                return;
            }
            docker.removeImageCmd(image).withForce(false).exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException alreadyGone) {
            return;
        } catch (com.github.dockerjava.api.exception.ConflictException inUse) {
            LOG.info("Snapshot image {} not removed: {}", image, DockerErrors.describe(inUse));
            throw new ConflictException(ErrorCodes.SNAPSHOT_DELETE_CONFLICT,
                "snapshot image cannot be deleted due to a conflict", inUse);
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.SNAPSHOT_IMAGE_REMOVE_FAILED,
                "Failed to remove snapshot image " + image + ": " + DockerErrors.describe(e), e);
        }
        LOG.info("Snapshot image {} removed", image);
    }

    boolean exists(String image) {
        try {
            docker.inspectImageCmd(image).exec();
            return true;
        } catch (com.github.dockerjava.api.exception.NotFoundException
                 | com.github.dockerjava.api.exception.BadRequestException absent) {
            return false;
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(DockerErrors.SNAPSHOT_QUERY_FAILED,
                "Failed to inspect snapshot image " + image + ": " + DockerErrors.describe(e), e);
        }
    }

    private void removeQuietly(String image) {
        try {
            docker.removeImageCmd(image).withForce(false).exec();
        } catch (RuntimeException e) {
            LOG.debug("No cleanup of {} after a timed-out commit: {}", image, DockerErrors.describe(e));
        }
    }

    // ---------------------------------------------------------------- what the image carries

    /**
     * The image's env: the source image's entries, then every other variable of the container as a
     * bare {@code KEY} (unset), {@code PATH} as Docker's default.
     */
    static List<String> env(List<String> containerEnv, List<String> imageEnv) {
        List<String> result = new ArrayList<>(imageEnv);
        Set<String> keys = new LinkedHashSet<>();
        imageEnv.forEach(entry -> keys.add(key(entry)));
        for (String entry : containerEnv) {
            String key = key(entry);
            if (keys.add(key)) {
                result.add(key.equals("PATH") ? DEFAULT_PATH : key);
            }
        }
        return result;
    }

    private static String key(String envEntry) {
        int equals = envEntry.indexOf('=');
        return equals < 0 ? envEntry : envEntry.substring(0, equals);
    }

    /**
     * The image's labels: every container label blanked, except those the source image brought
     * (with the image's value), plus the snapshot's own.
     */
    static Map<String, String> labels(Map<String, String> containerLabels, Map<String, String> imageLabels,
                                      SandboxId source, String snapshotId) {
        Map<String, String> result = new LinkedHashMap<>();
        if (containerLabels != null) {
            containerLabels.keySet().forEach(key -> result.put(key, ""));
        }
        if (imageLabels != null) {
            result.putAll(imageLabels);
        }
        result.put(Labels.SNAPSHOT_ID, snapshotId);
        result.put(SOURCE_SANDBOX_LABEL, source.toString());
        return result;
    }

    private static List<String> list(String[] entries) {
        return entries == null ? List.of() : Arrays.asList(entries);
    }
}
