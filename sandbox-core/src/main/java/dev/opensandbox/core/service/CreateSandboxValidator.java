package dev.opensandbox.core.service;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.Extensions;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.MalformedRequestException;
import dev.opensandbox.core.NetworkPolicy;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.RuntimeCapabilities;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Checks a create request against the rules of the lifecycle API, in upstream's order, so that a
 * request breaking several rules gets the same error as from the upstream server.
 *
 * <p>Order: the schema rules (422 {@code GENERAL::VALIDATION_ERROR}; field rules first, then the
 * cross-field rules, as upstream's schema library runs them), the {@code access.renew.extend.seconds}
 * extension, {@code poolRef} support, snapshot resolution, entrypoint and environment, metadata, platform,
 * timeout, network policy, volumes and finally resource limits (with the operator's defaults and maxima). Runtime-specific rules (secure access, Docker networks,
 * egress image, symlinks) belong to the runtime adapters and run after this.
 *
 * <p>Deliberately stricter than upstream: unparsable resource limits, network actions other than
 * {@code allow}/{@code deny}, and timeouts whose expiry cannot be written as an ISO-8601 year
 * are rejected with 400 instead of being ignored or failing later.
 */
public final class CreateSandboxValidator {

    /** What a snapshot restore without an entrypoint runs, as upstream: keeps the container alive. */
    static final List<String> RESTORE_DEFAULT_ENTRYPOINT = List.of("tail", "-f", "/dev/null");
    static final long MIN_TIMEOUT_SECONDS = 60;
    static final int MIN_RENEW_EXTEND_SECONDS = 300;
    static final int MAX_RENEW_EXTEND_SECONDS = 86_400;
    /**
     * Seconds from 1970 to 9999-12-31T23:59:59Z. Any longer timeout expires after year 9999 from
     * any creation time, which the ISO-8601 timestamps of the API and of the runtime labels (and
     * upstream's Python clients) cannot represent. No clock is needed for this bound.
     */
    static final long MAX_REPRESENTABLE_TIMEOUT_SECONDS = 253_402_300_799L;

    private static final List<String> SUPPORTED_OS = List.of("linux", "windows");
    private static final List<String> SUPPORTED_ARCH = List.of("amd64", "arm64");
    private static final List<String> NETWORK_ACTIONS = List.of("allow", "deny");
    private static final Pattern INTEGER = Pattern.compile("^[+-]?\\d+$");

    private final ServicePolicy policy;
    private final RuntimeCapabilities capabilities;

    /**
     * @param policy       the operator's limits (timeout cap, host path allow-list)
     * @param capabilities the runtime's capabilities; {@code pools} decides whether {@code poolRef} is accepted
     *                     and {@code errorNamespace} names the runtime in that error
     */
    public CreateSandboxValidator(ServicePolicy policy, RuntimeCapabilities capabilities) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.capabilities = Objects.requireNonNull(capabilities, "capabilities");
    }

    /**
     * Validates a create request and resolves what the runtime needs.
     *
     * @param spec      the request
     * @param snapshots resolves {@code snapshotId}; only called when the request restores a snapshot
     * @return the normalized request with the image, entrypoint and limits to use
     * @throws MalformedRequestException 422 for schema violations
     * @throws InvalidRequestException   400 for rule violations, with the upstream code
     * @throws dev.opensandbox.core.NotFoundException  from {@code snapshots}
     * @throws ConflictException         from {@code snapshots}, or when it returns no image
     */
    public ValidatedSpec validate(SandboxSpec spec, SnapshotResolver snapshots) {
        Objects.requireNonNull(spec, "spec");
        boolean poolMode = !Messages.isBlank(spec.extensions().get(Extensions.POOL_REF));

        checkFieldSchema(spec);
        checkCrossFieldSchema(spec, poolMode);

        Integer renewExtendSeconds = parseRenewExtendSeconds(spec.extensions());
        if (poolMode && !capabilities.pools()) {
            throw new InvalidRequestException(ErrorCodes.UNSUPPORTED_POOL_REF,
                "poolRef is not supported by the " + capabilities.errorNamespace().toLowerCase(Locale.ROOT)
                    + " runtime.");
        }

        // Upstream's schema turns a blank image/snapshotId into "absent"; do the same before resolving.
        ImageSpec requestedImage = spec.image() == null || spec.image().uri().isBlank() ? null : spec.image();
        ImageSpec image = requestedImage;
        String snapshotId = Messages.isBlank(spec.snapshotId()) ? null : spec.snapshotId();
        List<String> entrypoint = spec.entrypoint();
        if (snapshotId != null) {
            image = ImageSpec.of(resolveSnapshotImage(snapshots, snapshotId));
            if (entrypoint == null) {
                entrypoint = RESTORE_DEFAULT_ENTRYPOINT;
            }
        }

        checkEntrypoint(entrypoint);
        checkEnv(spec.env());
        MetadataRules.validateForCreate(spec.metadata());
        Platform platform = normalizePlatform(spec.platform());
        checkTimeout(spec.timeout());
        NetworkPolicy networkPolicy = normalizeNetworkPolicy(spec.networkPolicy());
        VolumeRules.checkSemantics(spec.volumes(), policy.allowedHostPaths());
        Map<String, String> requestedLimits = poolMode ? spec.resourceLimits() : boundedLimits(spec.resourceLimits());
        ResourceLimits limits = requestedLimits == null
            ? ResourceLimits.none()
            : ResourceLimitsParser.parse(requestedLimits);
        if (!poolMode) {
            checkMaxima(limits);
        }

        SandboxSpec normalized = spec.toBuilder()
            .image(requestedImage)
            .snapshotId(snapshotId)
            .platform(platform)
            .networkPolicy(networkPolicy)
            .resourceLimits(requestedLimits)
            .build();
        return new ValidatedSpec(normalized, image, entrypoint, limits, renewExtendSeconds, poolMode);
    }

    /**
     * What every runtime would fail to start, refused before anything is created: a blank program
     * name (the engine answers "executable file not found" only after the container exists) and
     * NUL characters, which no argv can carry.
     */
    static void checkEntrypoint(List<String> entrypoint) {
        if (entrypoint == null || entrypoint.isEmpty()) {
            return;
        }
        if (entrypoint.get(0).isBlank()) {
            throw new InvalidRequestException(ErrorCodes.INVALID_ENTRYPOINT,
                "entrypoint[0] must name the program to run, not an empty string.");
        }
        for (int i = 0; i < entrypoint.size(); i++) {
            if (entrypoint.get(i).indexOf('\0') >= 0) {
                throw new InvalidRequestException(ErrorCodes.INVALID_ENTRYPOINT,
                    "entrypoint[" + i + "] contains a NUL character, which a command line cannot carry.");
            }
        }
    }

    /**
     * Environment entries become {@code NAME=value} strings of the process environment: a name
     * must be non-empty without {@code =}, and neither part may hold a NUL character.
     */
    static void checkEnv(Map<String, String> env) {
        for (Map.Entry<String, String> entry : env.entrySet()) {
            String name = entry.getKey();
            if (name.isEmpty()) {
                throw invalidParameter("env: a variable name must not be empty.");
            }
            if (name.indexOf('=') >= 0) {
                throw invalidParameter("env['" + printable(name) + "']: a variable name must not contain '='.");
            }
            if (name.indexOf('\0') >= 0) {
                throw invalidParameter("env['" + printable(name) + "']: a variable name must not contain a NUL "
                    + "character.");
            }
            if (entry.getValue() != null && entry.getValue().indexOf('\0') >= 0) {
                throw invalidParameter("env['" + printable(name) + "']: the value must not contain a NUL "
                    + "character.");
            }
        }
    }

    /**
     * The request's limits with the operator's defaults filled in for {@code cpu} and
     * {@code memory} when the request names none (the maximum when there is no default), so that
     * {@code resourceLimits: {}} never runs an unbounded sandbox on a server that set bounds.
     */
    private Map<String, String> boundedLimits(Map<String, String> requested) {
        if (requested == null) {
            return null;
        }
        Map<String, String> effective = new LinkedHashMap<>(requested);
        for (String key : List.of(ResourceLimitsParser.CPU, ResourceLimitsParser.MEMORY)) {
            if (!effective.containsKey(key)) {
                String fill = policy.defaultResourceLimits().getOrDefault(key, policy.maxResourceLimits().get(key));
                if (fill != null) {
                    effective.put(key, fill);
                }
            }
        }
        return effective;
    }

    private void checkMaxima(ResourceLimits limits) {
        String cpuMax = policy.maxResourceLimits().get(ResourceLimitsParser.CPU);
        if (cpuMax != null && limits.cpuMillis().isPresent()
            && limits.cpuMillis().getAsLong() > ServicePolicy.amount(ResourceLimitsParser.CPU, cpuMax)) {
            throw aboveMaximum(ResourceLimitsParser.CPU, limits.raw().get(ResourceLimitsParser.CPU), cpuMax);
        }
        String memoryMax = policy.maxResourceLimits().get(ResourceLimitsParser.MEMORY);
        if (memoryMax != null && limits.memoryBytes().isPresent()
            && limits.memoryBytes().getAsLong() > ServicePolicy.amount(ResourceLimitsParser.MEMORY, memoryMax)) {
            throw aboveMaximum(ResourceLimitsParser.MEMORY, limits.raw().get(ResourceLimitsParser.MEMORY), memoryMax);
        }
    }

    private static InvalidRequestException aboveMaximum(String key, String requested, String max) {
        return invalidParameter("resourceLimits." + key + " '" + requested + "' exceeds the configured maximum of "
            + max + " ([server] max_resource_limits).");
    }

    /** {@code text} with control characters written as {@code \\uXXXX}, so that an error message shows them. */
    static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Field-level schema rules, in the field order of upstream's request model. */
    private static void checkFieldSchema(SandboxSpec spec) {
        if (spec.timeout() != null && spec.timeout().compareTo(Duration.ofSeconds(MIN_TIMEOUT_SECONDS)) < 0) {
            throw malformed("timeout must be greater than or equal to " + MIN_TIMEOUT_SECONDS + " seconds.");
        }
        requireStringValues("resourceLimits", spec.resourceLimits());
        requireStringValues("metadata", spec.metadata());
        if (spec.entrypoint() != null && spec.entrypoint().isEmpty()) {
            throw malformed("entrypoint must contain at least 1 item.");
        }
        if (spec.networkPolicy() != null) {
            List<NetworkPolicy.Rule> egress = spec.networkPolicy().egress();
            for (int i = 0; i < egress.size(); i++) {
                if (egress.get(i).target().isEmpty()) {
                    throw malformed("networkPolicy.egress[" + i + "].target must not be empty.");
                }
            }
        }
        VolumeRules.checkShape(spec.volumes());
        requireStringValues("extensions", spec.extensions());
    }

    private static void requireStringValues(String field, Map<String, String> map) {
        if (map == null) {
            return;
        }
        for (Map.Entry<String, String> e : map.entrySet()) {
            if (e.getValue() == null) {
                throw malformed(field + "['" + e.getKey() + "'] must be a string, not null.");
            }
        }
    }

    /** Upstream's model validator: its checks run in this order and pool mode skips the rest. */
    private static void checkCrossFieldSchema(SandboxSpec spec, boolean poolMode) {
        boolean hasSnapshot = !Messages.isBlank(spec.snapshotId());
        if (poolMode) {
            if (hasSnapshot) {
                throw malformed("snapshotId cannot be used together with poolRef.");
            }
            if (spec.credentialProxy()) {
                throw malformed("credentialProxy.enabled cannot be used together with poolRef.");
            }
            return;
        }
        if (spec.credentialProxy() && spec.networkPolicy() == null) {
            throw malformed("credentialProxy.enabled requires networkPolicy.");
        }
        boolean hasImage = spec.image() != null && !spec.image().uri().isBlank();
        if (hasImage == hasSnapshot) {
            throw malformed("Exactly one of image or snapshotId must be provided.");
        }
        if (hasImage && (spec.entrypoint() == null || spec.entrypoint().isEmpty())) {
            throw malformed("Entrypoint is required when image is provided.");
        }
        if (spec.resourceLimits() == null) {
            throw malformed("resourceLimits is required when poolRef is not provided.");
        }
    }

    static Integer parseRenewExtendSeconds(Map<String, String> extensions) {
        String key = Extensions.ACCESS_RENEW_EXTEND_SECONDS;
        if (!extensions.containsKey(key)) {
            return null;
        }
        String range = "between " + MIN_RENEW_EXTEND_SECONDS + " and " + MAX_RENEW_EXTEND_SECONDS + " seconds";
        String raw = extensions.get(key);
        String value = raw.strip();
        if (value.isEmpty()) {
            throw invalidParameter("Invalid extensions['" + key + "']: the value is empty; expected an integer "
                + range + ".");
        }
        if (!INTEGER.matcher(value).matches()) {
            throw invalidParameter("Invalid extensions['" + key + "'] '" + raw + "': not a base-10 integer; expected "
                + "an integer " + range + ".");
        }
        BigInteger seconds = new BigInteger(value);
        if (seconds.compareTo(BigInteger.valueOf(MIN_RENEW_EXTEND_SECONDS)) < 0
            || seconds.compareTo(BigInteger.valueOf(MAX_RENEW_EXTEND_SECONDS)) > 0) {
            throw invalidParameter("Invalid extensions['" + key + "'] '" + raw + "': out of range; must be "
                + range + " inclusive.");
        }
        return seconds.intValueExact();
    }

    private static String resolveSnapshotImage(SnapshotResolver snapshots, String snapshotId) {
        Objects.requireNonNull(snapshots, "snapshots (the request restores a snapshot)");
        String restored = snapshots.restoreImage(snapshotId);
        // The resolver should have thrown already; never hand a blank image to a runtime.
        if (Messages.isBlank(restored)) {
            throw new ConflictException(ErrorCodes.SNAPSHOT_INVALID_RESTORE_CONFIG,
                "Snapshot " + snapshotId + " has no image to restore from.");
        }
        return restored;
    }

    static Platform normalizePlatform(Platform platform) {
        if (platform == null) {
            return null;
        }
        String os = platform.os().strip().toLowerCase(Locale.ROOT);
        String arch = platform.arch().strip().toLowerCase(Locale.ROOT);
        if (!SUPPORTED_OS.contains(os)) {
            throw invalidParameter("Unsupported platform.os '" + platform.os() + "'. Supported values: "
                + Messages.pythonList(SUPPORTED_OS) + ".");
        }
        if (!SUPPORTED_ARCH.contains(arch)) {
            throw invalidParameter("Unsupported platform.arch '" + platform.arch() + "'. Supported values: "
                + Messages.pythonList(SUPPORTED_ARCH) + ".");
        }
        return new Platform(os, arch);
    }

    private void checkTimeout(Duration timeout) {
        if (timeout == null) {
            return;
        }
        long seconds = timeout.getSeconds();
        if (seconds > MAX_REPRESENTABLE_TIMEOUT_SECONDS) {
            throw invalidParameter("Sandbox timeout " + seconds + "s is too large to represent safely.");
        }
        Duration max = policy.maxTimeout();
        if (max != null && timeout.compareTo(max) > 0) {
            throw invalidParameter("Sandbox timeout " + seconds + "s exceeds configured maximum of "
                + max.getSeconds() + "s.");
        }
    }

    /** Lower-cases the actions so that the egress sidecar only ever sees {@code allow} or {@code deny}. */
    static NetworkPolicy normalizeNetworkPolicy(NetworkPolicy networkPolicy) {
        if (networkPolicy == null) {
            return null;
        }
        String defaultAction = networkPolicy.defaultAction() == null
            ? null
            : normalizeAction("networkPolicy.defaultAction", networkPolicy.defaultAction());
        List<NetworkPolicy.Rule> egress = new ArrayList<>();
        for (int i = 0; i < networkPolicy.egress().size(); i++) {
            NetworkPolicy.Rule rule = networkPolicy.egress().get(i);
            if (rule.target().isBlank()) {
                // "" is a schema violation (422, as upstream); only spaces passes upstream's schema and then
                // matches nothing in the sidecar: refused here instead.
                throw invalidParameter("networkPolicy.egress[" + i + "].target must name a domain, IP or CIDR, not blanks.");
            }
            egress.add(new NetworkPolicy.Rule(
                normalizeAction("networkPolicy.egress[" + i + "].action", rule.action()), rule.target().strip()));
        }
        return new NetworkPolicy(defaultAction, egress);
    }

    private static String normalizeAction(String field, String action) {
        String normalized = action.strip().toLowerCase(Locale.ROOT);
        if (!NETWORK_ACTIONS.contains(normalized)) {
            throw invalidParameter("Unsupported " + field + " '" + action + "'. Supported values: "
                + Messages.pythonList(NETWORK_ACTIONS) + ".");
        }
        return normalized;
    }

    private static MalformedRequestException malformed(String message) {
        return new MalformedRequestException(ErrorCodes.VALIDATION_ERROR, message);
    }

    private static InvalidRequestException invalidParameter(String message) {
        return new InvalidRequestException(ErrorCodes.INVALID_PARAMETER, message);
    }
}
