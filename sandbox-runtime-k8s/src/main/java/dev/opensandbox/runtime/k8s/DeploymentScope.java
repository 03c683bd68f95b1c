package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.Labels;
import dev.opensandbox.core.spi.Deployment;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable;

import java.util.Map;
import java.util.Objects;

/**
 * The {@link Deployment} contract on Kubernetes: which label every created object carries, which
 * label selector lists and watches use, and whether an object read back belongs to this server.
 *
 * <p>A scoped deployment that adopts nothing selects {@code opensandbox.io/deployment=<id>} on
 * the API server, so other deployments' objects never reach the caches. One that adopts
 * unlabelled objects cannot say "label absent or equal to id" in one selector, so it selects by
 * the id label alone and every read filters with {@link #owns(HasMetadata)}: one watch per kind,
 * and the same filter applied everywhere, which also guards the selective case against anything a
 * selector lets through.
 */
final class DeploymentScope {

    private final Deployment deployment;

    DeploymentScope(Deployment deployment) {
        this.deployment = Objects.requireNonNull(deployment, "deployment");
    }

    Deployment deployment() {
        return deployment;
    }

    /**
     * Whether every object with the sandbox id label is this server's (an unscoped deployment that
     * adopts unlabelled objects): reads need no ownership check, the behaviour before deployment ids.
     */
    boolean ownsEverything() {
        return !deployment.scoped() && deployment.adoptUnlabelled();
    }

    /** The label to stamp on every object created: one entry when scoped, else none. */
    Map<String, String> labels() {
        return deployment.labels();
    }

    boolean owns(HasMetadata object) {
        return object != null && deployment.owns(object.getMetadata().getLabels());
    }

    /**
     * Narrows a list or watch to this deployment's objects on the API server where one selector can
     * say it (scoped, adopting nothing); otherwise leaves it to {@link #owns(HasMetadata)}.
     */
    <T, L, R> FilterWatchListDeletable<T, L, R> select(FilterWatchListDeletable<T, L, R> operation) {
        return deployment.scoped() && !deployment.adoptUnlabelled()
            ? operation.withLabel(Labels.DEPLOYMENT, deployment.id()) : operation;
    }

    /** For logs: the deployment id, or {@code unscoped}. */
    String describe() {
        return deployment.scoped() ? deployment.id() : "unscoped";
    }
}
