package dev.opensandbox.core.spi;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which runtime objects belong to this server. Several independent servers may share one Docker
 * engine or Kubernetes namespace; each labels what it creates with its deployment id
 * ({@link dev.opensandbox.core.Labels#DEPLOYMENT}) and touches nothing else, so that one server
 * never adopts, expires or reaps another's sandboxes (a renewal stored by one server is invisible
 * to the other, which would expire the sandbox at its create-time label).
 *
 * <p>The contract for runtimes, when {@link #id()} is set:
 * <ul>
 *   <li>every object created (sandboxes, sidecars, helper containers, volumes, custom resources)
 *       carries the label {@code opensandbox.io/deployment=<id>};</li>
 *   <li>{@code list}, {@code inspect}, {@code resolveEndpoint}, {@code pause}/{@code resume},
 *       exec and files see an object only when {@link #owns(Map)} is true for its labels;
 *       other objects are reported as unknown (not found), never changed;</li>
 *   <li>{@code remove} of an object this deployment does not own succeeds without touching it
 *       (idempotent: for this deployment it does not exist), and {@code reapOrphans} only reaps
 *       owned objects.</li>
 * </ul>
 * An {@linkplain #unscoped() unscoped} deployment (no id) stamps nothing and owns every object that
 * carries the sandbox id label: the behaviour before deployment ids, kept for embedders and tests
 * that construct runtimes directly.
 *
 * @param id               the deployment id, a label value ({@code [a-z0-9]([-a-z0-9_.]*[a-z0-9])?},
 *                         at most 63 characters), or null for an unscoped deployment
 * @param adoptUnlabelled  whether objects with the sandbox id label but no deployment label (made by
 *                         the upstream server, or by this server before deployment ids) are adopted;
 *                         objects labelled with another deployment are never adopted
 */
public record Deployment(String id, boolean adoptUnlabelled) {

    private static final Pattern LABEL_VALUE = Pattern.compile("[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?");

    public Deployment {
        if (id != null && !LABEL_VALUE.matcher(id).matches()) {
            throw new IllegalArgumentException("A deployment id must be 1-63 characters of [a-z0-9-_.], starting and "
                + "ending with a letter or digit: '" + id + "'");
        }
    }

    /** No deployment id: stamps nothing, owns every sandbox object (the behaviour before deployment ids). */
    public static Deployment unscoped() {
        return new Deployment(null, true);
    }

    /** A deployment that owns only what it labelled itself. */
    public static Deployment of(String id) {
        return new Deployment(id, false);
    }

    /** Whether this deployment stamps its id on what it creates. */
    public boolean scoped() {
        return id != null;
    }

    /**
     * Whether an object with these labels belongs to this deployment: it carries this deployment's
     * id, or carries none and unlabelled objects are adopted (always, when unscoped).
     */
    public boolean owns(Map<String, String> labels) {
        String owner = labels == null ? null : labels.get(dev.opensandbox.core.Labels.DEPLOYMENT);
        if (owner == null || owner.isEmpty()) {
            return adoptUnlabelled || id == null;
        }
        return id == null ? adoptUnlabelled : id.equals(owner);
    }

    /** The label to stamp on created objects: one entry when scoped, else none. */
    public Map<String, String> labels() {
        return id == null ? Map.of() : Map.of(dev.opensandbox.core.Labels.DEPLOYMENT, id);
    }
}
