package dev.opensandbox.server.config;

import dev.opensandbox.core.spi.Deployment;

import java.util.Optional;

/**
 * Ours, {@code [deployment]}: which runtime objects belong to this server, so that several
 * independent servers can share one Docker engine or Kubernetes namespace without adopting,
 * expiring or reaping each other's sandboxes (see {@link Deployment}).
 *
 * @param id               the deployment id stamped on everything this server creates ({@code id});
 *                         empty means the id kept in the store (created on first start), so a server
 *                         keeps its id across restarts and replicas sharing a store share it
 * @param adoptUnlabelled  whether sandboxes without a deployment label — made by the upstream Python
 *                         server, or by this server before deployment ids — are adopted
 *                         ({@code adopt_unlabelled}, default false); another deployment's never are
 */
public record DeploymentSection(Optional<String> id, boolean adoptUnlabelled) {

    public DeploymentSection {
        id = Check.notNull("deployment.id", id).map(String::strip).filter(value -> !value.isEmpty());
        id.ifPresent(value -> {
            try {
                Deployment.of(value);
            } catch (IllegalArgumentException e) {
                throw ConfigException.at("deployment.id", e.getMessage());
            }
        });
    }

    static DeploymentSection defaults() {
        return new DeploymentSection(Optional.empty(), false);
    }

    /** The deployment this server runs as, once its id is known. */
    public Deployment deployment(String resolvedId) {
        return new Deployment(resolvedId, adoptUnlabelled);
    }
}
