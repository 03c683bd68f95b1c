package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.opensandbox.runtime.k8s.BatchSandboxManifest.map;

/**
 * Request volumes on Kubernetes (upstream's §2.7 and §7.4): {@code pvc} volumes become
 * PersistentVolumeClaim volumes of the pod (one per distinct claim, auto-created before the
 * workload when {@code createIfNotExists}), {@code host} volumes {@code hostPath} volumes with
 * type {@code DirectoryOrCreate} (the core already checked the allow-list), and {@code ossfs} is
 * refused. Each request volume is one mount of the main container.
 *
 * <p>Better than upstream: claims the server creates carry the sandbox id label, so that
 * {@code deleteOnSandboxTermination} can be honoured (upstream ignores it on Kubernetes), and a
 * failed create removes the claims it made. Claims that existed before are never touched.
 */
final class Pvcs {

    private static final Logger LOG = LoggerFactory.getLogger(Pvcs.class);

    /** On claims the server created: {@code true} when they go with the sandbox. */
    static final String DELETE_WITH_SANDBOX_LABEL = "opensandbox.io/delete-on-sandbox-termination";

    private Pvcs() {
    }

    /**
     * The runtime's volume rules, before anything is created.
     *
     * @param reserved pod volume names the runtime uses itself ({@code opensandbox-bin})
     * @throws InvalidRequestException for ossfs volumes and for a name the runtime reserves
     */
    static void check(List<VolumeSpec> volumes, Set<String> reserved) {
        for (VolumeSpec volume : volumes) {
            if (volume.backend() instanceof VolumeBackend.Ossfs) {
                throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, "Volume '" + volume.name()
                    + "' has no supported backend on Kubernetes: use pvc or host (ossfs is only supported by Docker).");
            }
            if (reserved.contains(volume.name())) {
                throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, "Volume name '" + volume.name()
                    + "' is reserved by the runtime; choose another name.");
            }
        }
    }

    /** The pod volumes: one per distinct claim (named after its first request volume), one per host volume. */
    static List<Map<String, Object>> podVolumes(List<VolumeSpec> volumes) {
        List<Map<String, Object>> result = new ArrayList<>();
        Map<String, String> claims = new LinkedHashMap<>();
        for (VolumeSpec volume : volumes) {
            if (volume.backend() instanceof VolumeBackend.Pvc pvc) {
                if (claims.putIfAbsent(pvc.claimName(), volume.name()) == null) {
                    result.add(map("name", volume.name(), "persistentVolumeClaim", map("claimName", pvc.claimName())));
                }
            } else if (volume.backend() instanceof VolumeBackend.Host host) {
                result.add(map("name", volume.name(), "hostPath", map("path", host.path(), "type", "DirectoryOrCreate")));
            }
        }
        return result;
    }

    /** The main container's mounts, one per request volume, naming the pod volume that backs it. */
    static List<Map<String, Object>> mounts(List<VolumeSpec> volumes) {
        List<Map<String, Object>> result = new ArrayList<>();
        Map<String, String> claims = new LinkedHashMap<>();
        for (VolumeSpec volume : volumes) {
            String podVolume = volume.name();
            if (volume.backend() instanceof VolumeBackend.Pvc pvc) {
                podVolume = claims.computeIfAbsent(pvc.claimName(), claim -> volume.name());
            }
            Map<String, Object> mount = map("name", podVolume, "mountPath", volume.mountPath(),
                "readOnly", volume.readOnly());
            if (volume.subPath() != null && !volume.subPath().isEmpty()) {
                mount.put("subPath", volume.subPath());
            }
            result.add(mount);
        }
        return result;
    }

    /**
     * Creates the missing claims of {@code createIfNotExists} volumes, once per claim, in request
     * order: a 403 on a read skips every remaining check (the server may not read claims; the
     * kubelet will tell), a 409 or 403 on create is a claim someone else made or will make.
     *
     * @return the claims created, for cleanup when the create fails later
     * @throws InvalidRequestException when the API server refuses the claim (400/422)
     */
    static List<String> ensure(KubernetesClient client, String namespace, SandboxId id, List<VolumeSpec> volumes,
                               String defaultSize, Map<String, String> ownerLabels) {
        List<String> created = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (VolumeSpec volume : volumes) {
            if (!(volume.backend() instanceof VolumeBackend.Pvc pvc) || !pvc.createIfNotExists()
                || !seen.add(pvc.claimName())) {
                continue;
            }
            try {
                if (client.persistentVolumeClaims().inNamespace(namespace).withName(pvc.claimName()).get() != null) {
                    continue;
                }
            } catch (KubernetesClientException e) {
                if (e.getCode() == 403) {
                    LOG.warn("sandbox={} action=pvc-check claim={} error={} (remaining claims not checked)", id,
                        pvc.claimName(), KubernetesErrors.describe(e));
                    break;
                }
                cleanup(client, namespace, id, created);
                throw KubernetesErrors.translate(e, "Failed to read PersistentVolumeClaim " + pvc.claimName());
            }
            PersistentVolumeClaim claim = client.getKubernetesSerialization().convertValue(
                body(id, namespace, pvc, defaultSize, ownerLabels), PersistentVolumeClaim.class);
            try {
                client.persistentVolumeClaims().inNamespace(namespace).resource(claim).create();
                created.add(pvc.claimName());
                LOG.info("sandbox={} action=pvc-create claim={} deleteWithSandbox={}", id, pvc.claimName(),
                    pvc.deleteOnSandboxTermination());
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409 || e.getCode() == 403) {
                    continue;
                }
                cleanup(client, namespace, id, created);
                if (e.getCode() == 400 || e.getCode() == 422) {
                    throw new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, "PersistentVolumeClaim "
                        + pvc.claimName() + " was refused: " + KubernetesErrors.describe(e));
                }
                throw KubernetesErrors.translate(e, "Failed to create PersistentVolumeClaim " + pvc.claimName());
            }
        }
        return created;
    }

    /**
     * Upstream's claim body, plus the labels that let the server find what it made: the sandbox id, the
     * deletion flag and {@code ownerLabels} (the deployment's).
     */
    static Map<String, Object> body(SandboxId id, String namespace, VolumeBackend.Pvc pvc, String defaultSize,
                                    Map<String, String> ownerLabels) {
        Map<String, Object> labels = map(Labels.ID, id.toString(),
            DELETE_WITH_SANDBOX_LABEL, String.valueOf(pvc.deleteOnSandboxTermination()));
        labels.putAll(ownerLabels);
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("accessModes", pvc.accessModes().isEmpty() ? List.of("ReadWriteOnce") : pvc.accessModes());
        spec.put("resources", map("requests", map("storage", pvc.storage() != null ? pvc.storage() : defaultSize)));
        if (pvc.storageClass() != null && !pvc.storageClass().isBlank()) {
            spec.put("storageClassName", pvc.storageClass());
        }
        return map("apiVersion", "v1", "kind", "PersistentVolumeClaim",
            "metadata", map("name", pvc.claimName(), "namespace", namespace, "labels", labels), "spec", spec);
    }

    /**
     * Deletes the claims this server created for the sandbox with {@code deleteOnSandboxTermination}, only
     * those {@code scope} owns (another deployment's claims are never touched). Best effort.
     */
    static void deleteWithSandbox(KubernetesClient client, String namespace, SandboxId id, DeploymentScope scope) {
        try {
            var claims = client.persistentVolumeClaims().inNamespace(namespace).withLabel(Labels.ID, id.toString())
                .withLabel(DELETE_WITH_SANDBOX_LABEL, "true");
            if (scope.ownsEverything()) {
                claims.delete();
                return;
            }
            for (PersistentVolumeClaim claim : scope.select(claims).list().getItems()) {
                if (scope.owns(claim)) {
                    client.persistentVolumeClaims().inNamespace(namespace).withName(claim.getMetadata().getName())
                        .delete();
                }
            }
        } catch (KubernetesClientException e) {
            LOG.warn("sandbox={} action=pvc-delete error={}", id, KubernetesErrors.describe(e));
        }
    }

    /** Removes claims a failed create made, whatever their flag: nothing of a failed create stays. */
    static void cleanup(KubernetesClient client, String namespace, SandboxId id, List<String> claims) {
        for (String claim : claims) {
            try {
                client.persistentVolumeClaims().inNamespace(namespace).withName(claim).delete();
            } catch (KubernetesClientException e) {
                LOG.warn("sandbox={} action=pvc-cleanup claim={} error={}", id, claim, KubernetesErrors.describe(e));
            }
        }
    }
}
