package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.spi.Deployment;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Docker side of a {@link Deployment}: the label stamped on every container, volume and image
 * this runtime creates, and the list calls that return only what it owns. A listing stays one
 * engine call: the engine filters by the deployment label when only labelled objects are owned;
 * when unlabelled ones are adopted too (the engine cannot filter on a missing label) the owned
 * ones are picked from the answer.
 */
final class Ownership {

    private final Deployment deployment;

    Ownership(Deployment deployment) {
        this.deployment = deployment;
    }

    Deployment deployment() {
        return deployment;
    }

    boolean owns(Map<String, String> labels) {
        return deployment.owns(labels);
    }

    /** {@code labels} plus this deployment's label (nothing is added when unscoped). */
    Map<String, String> stamp(Map<String, String> labels) {
        Map<String, String> stamped = new LinkedHashMap<>(labels);
        stamped.putAll(deployment.labels());
        return stamped;
    }

    /**
     * Owned containers, running or not, carrying {@code key} (with {@code value}, unless it is empty).
     * One list call.
     */
    List<Container> containers(DockerClient docker, String key, String value) {
        Map<String, String> filter = new LinkedHashMap<>();
        // An empty value filters on the key alone (docker-java writes "key" instead of "key=").
        filter.put(key, value);
        if (deployment.scoped() && !deployment.adoptUnlabelled()) {
            filter.put(Labels.DEPLOYMENT, deployment.id());
        }
        return docker.listContainersCmd().withShowAll(true).withLabelFilter(filter).exec().stream()
            .filter(container -> owns(container.getLabels()))
            .toList();
    }
}
