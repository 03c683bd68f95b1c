package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.Pool;
import dev.opensandbox.core.spi.PoolRuntime;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.StatusDetails;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@link PoolRuntime} over upstream's {@code sandbox.opensandbox.io/v1alpha1} Pool custom
 * resources in the runtime's namespace, on the runtime's one client (upstream builds a client per
 * request). The server writes only {@code spec.template} and {@code spec.capacitySpec}; the
 * controller keeps the pods and writes the status. Reads go to the API server every time: pools
 * are few, read rarely, and their status must be current.
 *
 * <p>Pools are shared by every deployment in the namespace, not scoped like sandboxes: a pool is
 * capacity the operator provisions, its name is unique in the namespace whoever made it (a
 * per-deployment view would answer "already exists" for a pool it cannot show), sandboxes of any
 * deployment may name it in {@code poolRef}, and nothing expires or reaps pools, so no server can
 * take another's by adopting it. Pools this server creates still carry its deployment label, so
 * that an operator can tell who made them.
 */
final class KubernetesPools implements PoolRuntime {

    static final String KIND = "Pool";
    static final String PLURAL = "pools";
    static final ResourceDefinitionContext CONTEXT = new ResourceDefinitionContext.Builder()
        .withGroup(BatchSandboxes.GROUP).withVersion(BatchSandboxes.VERSION).withKind(KIND).withPlural(PLURAL)
        .withNamespaced(true).build();

    private static final Logger LOG = LoggerFactory.getLogger(KubernetesPools.class);
    private static final PatchContext MERGE_PATCH = PatchContext.of(PatchType.JSON_MERGE);

    private final KubernetesClient client;
    private final String namespace;
    private final Map<String, String> ownerLabels;

    KubernetesPools(KubernetesClient client, String namespace) {
        this(client, namespace, Map.of());
    }

    /** @param ownerLabels stamped on the pools created (the deployment's label, when scoped) */
    KubernetesPools(KubernetesClient client, String namespace, Map<String, String> ownerLabels) {
        this.client = Objects.requireNonNull(client, "client");
        this.namespace = Objects.requireNonNull(namespace, "namespace");
        this.ownerLabels = Map.copyOf(ownerLabels);
    }

    private NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList,
        Resource<GenericKubernetesResource>> pools() {
        return client.genericKubernetesResources(CONTEXT).inNamespace(namespace);
    }

    @Override
    public Pool create(String name, Map<String, Object> template, Pool.Capacity capacity) {
        GenericKubernetesResource body = new GenericKubernetesResource();
        body.setApiVersion(BatchSandboxes.API_VERSION);
        body.setKind(KIND);
        ObjectMetaBuilder metadata = new ObjectMetaBuilder().withName(name).withNamespace(namespace);
        if (!ownerLabels.isEmpty()) {
            metadata.withLabels(ownerLabels);
        }
        body.setMetadata(metadata.build());
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("template", template);
        spec.put("capacitySpec", capacitySpec(capacity));
        body.setAdditionalProperty("spec", spec);
        GenericKubernetesResource created;
        try {
            created = pools().resource(body).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                throw PoolRuntime.poolAlreadyExists(name);
            }
            throw KubernetesErrors.poolApiError(e, "Failed to create Pool " + name);
        }
        LOG.info("pool={} action=create namespace={} capacity={}", name, namespace, capacity);
        return toPool(created);
    }

    @Override
    public Pool get(String name) {
        GenericKubernetesResource pool;
        try {
            pool = pools().withName(name).get();
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.poolApiError(e, "Failed to read Pool " + name);
        }
        if (pool == null) {
            throw PoolRuntime.poolNotFound(name);
        }
        return toPool(pool);
    }

    @Override
    public List<Pool> list() {
        List<GenericKubernetesResource> items;
        try {
            items = pools().list().getItems();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                // The Pool CRD is not installed: there are no pools, as upstream answers.
                return List.of();
            }
            throw KubernetesErrors.poolApiError(e, "Failed to list Pools");
        }
        List<Pool> result = new ArrayList<>(items.size());
        items.forEach(item -> result.add(toPool(item)));
        return result;
    }

    /** A JSON merge patch of {@code spec.capacitySpec} alone, all four values, as upstream. */
    @Override
    public Pool updateCapacity(String name, Pool.Capacity capacity) {
        String patch = "{\"spec\":{\"capacitySpec\":" + client.getKubernetesSerialization().asJson(capacitySpec(capacity))
            + "}}";
        GenericKubernetesResource updated;
        try {
            updated = pools().withName(name).patch(MERGE_PATCH, patch);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                throw PoolRuntime.poolNotFound(name);
            }
            throw KubernetesErrors.poolApiError(e, "Failed to update Pool " + name);
        }
        LOG.info("pool={} action=update-capacity capacity={}", name, capacity);
        return toPool(updated);
    }

    @Override
    public void delete(String name) {
        List<StatusDetails> deleted;
        try {
            deleted = pools().withName(name).withGracePeriod(0).delete();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                throw PoolRuntime.poolNotFound(name);
            }
            throw KubernetesErrors.poolApiError(e, "Failed to delete Pool " + name);
        }
        // fabric8 answers a 404 with an empty list rather than an exception.
        if (deleted.isEmpty()) {
            throw PoolRuntime.poolNotFound(name);
        }
        LOG.info("pool={} action=delete", name);
    }

    private static Map<String, Object> capacitySpec(Pool.Capacity capacity) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("bufferMax", capacity.bufferMax());
        spec.put("bufferMin", capacity.bufferMin());
        spec.put("poolMax", capacity.poolMax());
        spec.put("poolMin", capacity.poolMin());
        return spec;
    }

    /** Missing counts read as 0; the status only once the controller wrote a non-empty one (upstream). */
    static Pool toPool(GenericKubernetesResource cr) {
        Map<String, Object> spec = WorkloadMapper.child(cr.getAdditionalProperties(), "spec");
        Map<String, Object> capacity = WorkloadMapper.child(spec, "capacitySpec");
        Map<String, Object> status = WorkloadMapper.child(cr.getAdditionalProperties(), "status");
        Pool.Status poolStatus = status.isEmpty() ? null : new Pool.Status(count(status.get("total")),
            count(status.get("allocated")), count(status.get("available")),
            status.get("revision") == null ? "" : String.valueOf(status.get("revision")));
        return new Pool(cr.getMetadata().getName(),
            new Pool.Capacity(count(capacity.get("bufferMax")), count(capacity.get("bufferMin")),
                count(capacity.get("poolMax")), count(capacity.get("poolMin"))),
            poolStatus, WorkloadMapper.parseTime(cr.getMetadata().getCreationTimestamp()).orElse(null),
            WorkloadMapper.child(spec, "template"));
    }

    private static int count(Object value) {
        return value instanceof Number number ? number.intValue() : 0;
    }
}
