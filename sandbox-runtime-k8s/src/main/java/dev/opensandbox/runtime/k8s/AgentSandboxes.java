package dev.opensandbox.runtime.k8s;

import dev.opensandbox.core.SandboxId;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Names of the kubernetes-sigs/agent-sandbox {@code Sandbox} custom resource (pinned to
 * {@code v1alpha1}, as upstream) and the DNS-1035 name a sandbox id becomes. The name rule is
 * shared with the OpenSandbox ingress, which looks Sandboxes up by the same candidates: keep it.
 */
final class AgentSandboxes {

    static final String GROUP = "agents.x-k8s.io";
    static final String VERSION = "v1alpha1";
    static final String API_VERSION = GROUP + "/" + VERSION;
    static final String KIND = "Sandbox";
    static final String PLURAL = "sandboxes";

    static final ResourceDefinitionContext CONTEXT = new ResourceDefinitionContext.Builder()
        .withGroup(GROUP).withVersion(VERSION).withKind(KIND).withPlural(PLURAL).withNamespaced(true).build();

    /** The condition the agent-sandbox controller keeps, and its reason once {@code shutdownTime} has passed. */
    static final String CONDITION_READY = "Ready";
    static final String REASON_EXPIRED = "SandboxExpired";

    /** The expiry the agent-sandbox controller enforces (pod and Service deleted; the Sandbox too with policy Delete). */
    static final String SHUTDOWN_TIME = "shutdownTime";

    private static final int MAX_NAME = 63;

    private AgentSandboxes() {
    }

    /** The Sandbox name of a sandbox: its id as a DNS-1035 label. */
    static String name(SandboxId id) {
        return dns1035(id.toString());
    }

    /**
     * Upstream's sanitizer: lower-cased, runs outside {@code [a-z0-9-]} become one {@code -},
     * trimmed of {@code -}; empty becomes {@code sandbox-<hash>}; a name that does not start
     * with a letter gets the {@code sandbox-} prefix; longer than 63 is cut to 54 and suffixed
     * with {@code -<hash>} (8 hex digits of the SHA-256 of the raw value).
     */
    static String dns1035(String raw) {
        String name = raw.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-").replaceAll("-{2,}", "-");
        name = trimDashes(name);
        if (name.isEmpty()) {
            return "sandbox-" + hash(raw);
        }
        if (name.charAt(0) < 'a' || name.charAt(0) > 'z') {
            name = "sandbox-" + name;
        }
        if (name.length() > MAX_NAME) {
            name = trimDashes(name.substring(0, 54)) + "-" + hash(raw);
        }
        return name;
    }

    /** The names a sandbox's Sandbox may have, in lookup order: sanitized, the raw id, {@code sandbox-<id>}. */
    static List<String> candidates(SandboxId id) {
        Set<String> names = new LinkedHashSet<>();
        names.add(name(id));
        names.add(id.toString());
        names.add("sandbox-" + id);
        return List.copyOf(names);
    }

    private static String trimDashes(String value) {
        int start = 0;
        int end = value.length();
        while (start < end && value.charAt(start) == '-') {
            start++;
        }
        while (end > start && value.charAt(end - 1) == '-') {
            end--;
        }
        return value.substring(start, end);
    }

    private static String hash(String raw) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(raw.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }
}
