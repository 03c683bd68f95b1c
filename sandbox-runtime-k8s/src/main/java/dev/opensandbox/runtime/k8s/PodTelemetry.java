package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.UnsupportedCapabilityException;
import dev.opensandbox.core.spi.ResourceUsage;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.ContainerMetrics;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.PrettyLoggable;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * Logs and resource usage of a sandbox's {@code sandbox} container: the pod log ({@code tailLines},
 * {@code sinceTime}, timestamps as the Docker runtime gives them) and the metrics API
 * ({@code metrics.k8s.io}, served by metrics-server). Usage is metrics-server's last sample (its
 * CPU rate is averaged over its scrape window) against the container's limits, else the node's
 * allocatable resources. Without a metrics API, or without a limit and a readable node, stats are
 * 501 {@code KUBERNETES::NOT_SUPPORTED}.
 */
final class PodTelemetry {

    private final KubernetesClient client;
    private final String namespace;
    private final PodExec exec;

    PodTelemetry(KubernetesClient client, String namespace, PodExec exec) {
        this.client = client;
        this.namespace = namespace;
        this.exec = exec;
    }

    String logs(SandboxId id, int tail, Instant since) {
        Pod pod = exec.runningPodOrAny(id);
        var timestamped = exec.container(pod).usingTimestamps();
        var timed = since == null ? timestamped : timestamped.sinceTime(DateTimeFormatter.ISO_INSTANT.format(since));
        PrettyLoggable query = tail > 0 ? timed.tailingLines(tail) : timed;
        try {
            String log = query.getLog();
            return log == null ? "" : log;
        } catch (KubernetesClientException e) {
            throw exec.translate(id, e, "Failed to read the logs of sandbox " + id);
        }
    }

    ResourceUsage stats(SandboxId id) {
        Pod pod = exec.runningPod(id);
        PodMetrics metrics;
        try {
            metrics = client.top().pods().metrics(namespace, pod.getMetadata().getName());
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404 || e.getCode() == 503) {
                throw unsupported("the metrics API (metrics.k8s.io, metrics-server) is not available in this cluster or "
                    + "has no sample of the pod yet (" + KubernetesErrors.describe(e) + ")");
            }
            throw exec.translate(id, e, "Failed to read the resource usage of sandbox " + id);
        }
        ContainerMetrics usage = metrics == null || metrics.getContainers() == null ? null : metrics.getContainers().stream()
            .filter(c -> BatchSandboxes.MAIN_CONTAINER.equals(c.getName())).findFirst().orElse(null);
        if (usage == null || usage.getUsage() == null) {
            throw unsupported("the metrics API has no sample of the sandbox container yet");
        }
        Map<String, Quantity> limits = limits(pod);
        Quantity cpuLimit = limits.get("cpu");
        Quantity memoryLimit = limits.get("memory");
        if (cpuLimit == null || memoryLimit == null) {
            Map<String, Quantity> node = nodeAllocatable(pod);
            cpuLimit = cpuLimit != null ? cpuLimit : node.get("cpu");
            memoryLimit = memoryLimit != null ? memoryLimit : node.get("memory");
        }
        if (cpuLimit == null || memoryLimit == null) {
            throw unsupported("the sandbox has no CPU and memory limits and its node cannot be read");
        }
        return usage(usage.getUsage(), cpuLimit, memoryLimit);
    }

    /** Usage in percent of the CPU limit (capped at 100, since a burst sample may exceed it) and bytes. */
    static ResourceUsage usage(Map<String, Quantity> used, Quantity cpuLimit, Quantity memoryLimit) {
        double cpus = amount(cpuLimit);
        double cpuUsed = amount(used.get("cpu"));
        long memory = (long) amount(memoryLimit);
        long memoryUsed = (long) amount(used.get("memory"));
        double percent = cpus <= 0 ? 0 : Math.min(100, Math.max(0, cpuUsed / cpus * 100));
        return new ResourceUsage(cpus, percent, memory, Math.max(0, memoryUsed));
    }

    private static double amount(Quantity quantity) {
        if (quantity == null) {
            return 0;
        }
        BigDecimal value = quantity.getNumericalAmount();
        return value == null ? 0 : value.doubleValue();
    }

    private static Map<String, Quantity> limits(Pod pod) {
        if (pod.getSpec() == null || pod.getSpec().getContainers() == null) {
            return Map.of();
        }
        for (Container container : pod.getSpec().getContainers()) {
            if (BatchSandboxes.MAIN_CONTAINER.equals(container.getName()) && container.getResources() != null
                && container.getResources().getLimits() != null) {
                return container.getResources().getLimits();
            }
        }
        return Map.of();
    }

    private Map<String, Quantity> nodeAllocatable(Pod pod) {
        String nodeName = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
        if (nodeName == null) {
            return Map.of();
        }
        try {
            Node node = client.nodes().withName(nodeName).get();
            return node == null || node.getStatus() == null || node.getStatus().getAllocatable() == null ? Map.of()
                : node.getStatus().getAllocatable();
        } catch (KubernetesClientException e) {
            // Nodes are cluster-scoped: a namespaced service account usually may not read them.
            return Map.of();
        }
    }

    private static UnsupportedCapabilityException unsupported(String why) {
        return new UnsupportedCapabilityException(KubernetesErrors.NAMESPACE + "::NOT_SUPPORTED",
            "Resource usage is not available: " + why + ".");
    }
}
