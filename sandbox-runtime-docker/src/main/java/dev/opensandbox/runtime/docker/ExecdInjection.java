package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.Container;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.UnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Injects upstream's execd daemon into sandboxes when {@code [runtime] execd_image} is set, as
 * upstream does: {@code /execd} and {@code /bootstrap.sh} are read out of that image once per
 * platform through a throw-away helper container, written into {@code /opt/opensandbox} of each
 * created (not yet started) sandbox container, and the container runs
 * {@code /opt/opensandbox/bootstrap.sh} with the requested entrypoint as its command.
 *
 * <p>Unlike upstream, the helper container carries a label ({@link #HELPER_LABEL}), so one left
 * behind by a crash is found and removed by the reconcile pass.
 */
final class ExecdInjection {

    private static final Logger LOG = LoggerFactory.getLogger(ExecdInjection.class);
    static final String INSTALL_DIR = "/opt/opensandbox";
    static final String BOOTSTRAP = INSTALL_DIR + "/bootstrap.sh";
    static final String HELPER_LABEL = "opensandbox.io/execd-helper";
    static final String EXECD_START_FAILED = "DOCKER::SANDBOX_EXECD_START_FAILED";
    static final String EXECD_DISTRIBUTION_FAILED = "DOCKER::SANDBOX_EXECD_DISTRIBUTION_FAILED";
    static final String BOOTSTRAP_INSTALL_FAILED = "DOCKER::SANDBOX_BOOTSTRAP_INSTALL_FAILED";

    private final DockerClient docker;
    private final String execdImage;
    private final Map<String, Archives> cache = new ConcurrentHashMap<>();
    private final BiConsumer<String, Platform> ensureImage;
    private final Clock clock;
    private final Ownership ownership;
    /** Names of the helpers of harvests in progress: never reaped. */
    private final Set<String> harvesting = ConcurrentHashMap.newKeySet();

    /**
     * @param ensureImage makes an image present (pulling it when absent or of another platform),
     *                    as for sandbox images
     */
    ExecdInjection(DockerClient docker, String execdImage, BiConsumer<String, Platform> ensureImage, Clock clock,
                   Ownership ownership) {
        this.clock = clock;
        this.docker = docker;
        this.execdImage = execdImage;
        this.ensureImage = ensureImage;
        this.ownership = ownership;
    }

    /** The two tar archives read from the execd image. */
    record Archives(byte[] execd, byte[] bootstrap) {
    }

    /** The container's entrypoint and command: the launcher, then the requested argv as its arguments. */
    static List<String> entrypoint() {
        return List.of(BOOTSTRAP);
    }

    /** Upstream splits a single argument holding spaces with shell rules ({@code ["python -m x"]}). */
    static List<String> command(List<String> requested) {
        if (requested.size() == 1 && requested.get(0).contains(" ")) {
            return ShellWords.split(requested.get(0));
        }
        return requested;
    }

    /**
     * The archives for a platform key ({@code "default"} or {@code os/arch} of the sandbox image),
     * read once and kept.
     */
    Archives archives(String platformKey, Platform platform) {
        Archives cached = cache.get(platformKey);
        if (cached != null) {
            return cached;
        }
        synchronized (this) {
            cached = cache.get(platformKey);
            if (cached == null) {
                cached = harvest(platform);
                cache.put(platformKey, cached);
            }
            return cached;
        }
    }

    private Archives harvest(Platform platform) {
        ensureImage.accept(execdImage, platform);
        String name = "sandbox-execd-" + UUID.randomUUID();
        harvesting.add(name);
        try {
            return harvest(platform, name);
        } finally {
            harvesting.remove(name);
        }
    }

    private Archives harvest(Platform platform, String name) {
        String helper;
        try {
            CreateContainerCmd create = docker.createContainerCmd(execdImage).withName(name)
                .withEntrypoint("tail", "-f", "/dev/null")
                .withLabels(ownership.stamp(Map.of(HELPER_LABEL, "true")));
            if (platform != null) {
                create.withPlatform(platform.os() + "/" + platform.arch());
            }
            helper = create.exec().getId();
            docker.startContainerCmd(helper).exec();
        } catch (RuntimeException e) {
            removeHelper(name);
            throw new UnavailableException(EXECD_START_FAILED, "Failed to start a helper container from execd image "
                + execdImage + " ([runtime] execd_image): " + DockerErrors.describe(e), e);
        }
        try {
            return new Archives(read(helper, "/execd"), read(helper, "/bootstrap.sh"));
        } finally {
            removeHelper(name);
        }
    }

    private byte[] read(String container, String path) {
        try (InputStream archive = docker.copyArchiveFromContainerCmd(container, path).exec()) {
            return archive.readAllBytes();
        } catch (IOException | RuntimeException e) {
            throw new RuntimeFailureException(EXECD_DISTRIBUTION_FAILED, "Failed to read " + path + " from execd image "
                + execdImage + ": " + DockerErrors.describe(e), e);
        }
    }

    private void removeHelper(String name) {
        try {
            docker.removeContainerCmd(name).withForce(true).exec();
        } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
            // never created
        } catch (RuntimeException e) {
            LOG.warn("Could not remove execd helper container {}: {}", name, DockerErrors.describe(e));
        }
    }

    /** Writes the daemon and its launcher into a created, not yet started container. */
    void install(String containerId, Archives archives) {
        try {
            docker.copyArchiveToContainerCmd(containerId).withRemotePath("/")
                .withTarInputStream(Tar.directories(List.of("opt", "opt/opensandbox"), clock.instant())).exec();
            docker.copyArchiveToContainerCmd(containerId).withRemotePath(INSTALL_DIR)
                .withTarInputStream(new ByteArrayInputStream(archives.execd())).exec();
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(EXECD_DISTRIBUTION_FAILED,
                "Failed to copy execd into the sandbox container: " + DockerErrors.describe(e), e);
        }
        try {
            docker.copyArchiveToContainerCmd(containerId).withRemotePath(INSTALL_DIR)
                .withTarInputStream(new ByteArrayInputStream(archives.bootstrap())).exec();
        } catch (RuntimeException e) {
            throw new RuntimeFailureException(BOOTSTRAP_INSTALL_FAILED,
                "Failed to copy bootstrap.sh into the sandbox container: " + DockerErrors.describe(e), e);
        }
    }

    /**
     * Removes this deployment's helper containers that a crash left behind (they live seconds when
     * all goes well): never one of a harvest in progress, nor one younger than {@code grace}, which
     * may belong to a harvest of another server process of the same deployment.
     */
    void reapHelpers(Duration grace) {
        try {
            for (var container : ownership.containers(docker, HELPER_LABEL, "")) {
                if (inUse(container, grace)) {
                    continue;
                }
                try {
                    docker.removeContainerCmd(container.getId()).withForce(true).exec();
                    LOG.info("Removed leftover execd helper container {}", container.getId());
                } catch (RuntimeException e) {
                    LOG.warn("Could not remove execd helper {}: {}", container.getId(), DockerErrors.describe(e));
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("Could not list execd helper containers: {}", DockerErrors.describe(e));
        }
    }

    private boolean inUse(Container container, Duration grace) {
        String[] names = container.getNames() == null ? new String[0] : container.getNames();
        for (String name : names) {
            if (harvesting.contains(name.startsWith("/") ? name.substring(1) : name)) {
                return true;
            }
        }
        return DockerSandboxRuntime.youngerThan(container, grace, clock.instant());
    }

    /** POSIX-shell-like word splitting: quotes and backslashes, no expansion. */
    static final class ShellWords {
        private ShellWords() {
        }

        static List<String> split(String line) {
            List<String> words = new ArrayList<>();
            StringBuilder word = new StringBuilder();
            boolean inWord = false;
            char quote = 0;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quote == '\'') {
                    if (c == '\'') {
                        quote = 0;
                    } else {
                        word.append(c);
                    }
                } else if (quote == '"') {
                    if (c == '"') {
                        quote = 0;
                    } else if (c == '\\' && i + 1 < line.length() && "\"\\$`".indexOf(line.charAt(i + 1)) >= 0) {
                        word.append(line.charAt(++i));
                    } else {
                        word.append(c);
                    }
                } else if (c == '\'' || c == '"') {
                    quote = c;
                    inWord = true;
                } else if (c == '\\' && i + 1 < line.length()) {
                    word.append(line.charAt(++i));
                    inWord = true;
                } else if (Character.isWhitespace(c)) {
                    if (inWord) {
                        words.add(word.toString());
                        word.setLength(0);
                        inWord = false;
                    }
                } else {
                    word.append(c);
                    inWord = true;
                }
            }
            if (quote != 0) {
                throw new IllegalArgumentException("unterminated quote in entrypoint: " + line);
            }
            if (inWord) {
                words.add(word.toString());
            }
            return words;
        }
    }
}
