package dev.opensandbox.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NetworkPolicy;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.RegistryAuth;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns request bodies into core commands. Shape errors are 422; rules are checked by the core. */
final class Requests {

    private Requests() {
    }

    static SandboxSpec createSandbox(JsonNode body) {
        JsonObject json = JsonObject.of(body, "body");
        SandboxSpec.Builder spec = SandboxSpec.builder();

        JsonObject image = json.object("image");
        if (image != null) {
            String uri = image.requiredString("uri");
            JsonObject auth = image.object("auth");
            RegistryAuth registryAuth = auth == null ? null
                : new RegistryAuth(auth.requiredString("username"), auth.requiredString("password"));
            spec.image(uri.isBlank() ? null : new ImageSpec(uri, registryAuth));
        }
        String snapshotId = json.string("snapshotId");
        spec.snapshotId(snapshotId == null || snapshotId.isBlank() ? null : snapshotId);

        JsonObject platform = json.object("platform");
        if (platform != null) {
            spec.platform(new Platform(platform.requiredString("os"), platform.requiredString("arch")));
        }
        Long timeout = json.integer("timeout");
        if (timeout != null) {
            spec.timeout(Duration.ofSeconds(timeout));
        }
        spec.resourceLimits(json.stringMap("resourceLimits", false));
        Map<String, String> env = json.stringMap("env", true);
        if (env != null) {
            Map<String, String> kept = new LinkedHashMap<>();
            env.forEach((key, value) -> {
                if (value != null) {
                    kept.put(key, value);
                }
            });
            spec.env(kept);
        }
        spec.metadata(json.stringMap("metadata", false));
        spec.entrypoint(json.stringList("entrypoint"));
        spec.networkPolicy(networkPolicy(json.object("networkPolicy")));
        JsonObject credentialProxy = json.object("credentialProxy");
        if (credentialProxy != null) {
            Boolean enabled = credentialProxy.bool("enabled");
            spec.credentialProxy(enabled != null && enabled);
        }
        Boolean secureAccess = json.bool("secureAccess");
        spec.secureAccess(secureAccess != null && secureAccess);
        List<VolumeSpec> volumes = json.list("volumes", element -> volume(JsonObject.of(element.node(), element.path())));
        spec.volumes(volumes);
        spec.extensions(json.stringMap("extensions", false));
        return spec.build();
    }

    private static NetworkPolicy networkPolicy(JsonObject policy) {
        if (policy == null) {
            return null;
        }
        List<NetworkPolicy.Rule> rules = policy.list("egress", element -> {
            JsonObject rule = JsonObject.of(element.node(), element.path());
            String target = rule.requiredString("target");
            if (target.isEmpty()) {
                throw JsonObject.invalid(rule.at("target"), "String should have at least 1 character");
            }
            return new NetworkPolicy.Rule(rule.requiredString("action"), target);
        });
        return new NetworkPolicy(policy.string("defaultAction"), rules);
    }

    private static VolumeSpec volume(JsonObject volume) {
        String name = volume.requiredString("name");
        String mountPath = volume.requiredString("mountPath");
        Boolean readOnly = volume.bool("readOnly");
        String subPath = volume.string("subPath");
        List<VolumeBackend> backends = new ArrayList<>();
        JsonObject host = volume.object("host");
        if (host != null) {
            backends.add(new VolumeBackend.Host(host.requiredString("path")));
        }
        JsonObject pvc = volume.object("pvc");
        if (pvc != null) {
            Boolean create = pvc.bool("createIfNotExists");
            Boolean delete = pvc.bool("deleteOnSandboxTermination");
            backends.add(new VolumeBackend.Pvc(pvc.requiredString("claimName"), create == null || create,
                delete != null && delete, pvc.string("storageClass"), pvc.string("storage"), pvc.stringList("accessModes")));
        }
        JsonObject ossfs = volume.object("ossfs");
        if (ossfs != null) {
            backends.add(new VolumeBackend.Ossfs(ossfs.requiredString("bucket"), ossfs.requiredString("endpoint"),
                ossfs.string("version"), ossfs.stringList("options"), ossfs.requiredString("accessKeyId"),
                ossfs.requiredString("accessKeySecret")));
        }
        if (backends.size() != 1) {
            throw JsonObject.invalid(volume.path(),
                "Exactly one backend (host, pvc, ossfs) must be specified, got " + backends.size());
        }
        return new VolumeSpec(name, mountPath, readOnly != null && readOnly, subPath, backends.get(0));
    }

    /** A merge patch: an object of strings or nulls. */
    static Map<String, String> metadataPatch(JsonNode body) {
        JsonObject json = JsonObject.of(body, "body");
        Map<String, String> patch = new LinkedHashMap<>();
        var fields = body.fields();
        while (fields.hasNext()) {
            var entry = fields.next();
            JsonNode value = entry.getValue();
            if (value.isNull()) {
                patch.put(entry.getKey(), null);
            } else if (value.isTextual()) {
                patch.put(entry.getKey(), value.textValue());
            } else {
                throw JsonObject.invalid(json.at(entry.getKey()), "Input should be a valid string");
            }
        }
        return patch;
    }

    /**
     * The requested expiry. Any time RFC 3339 can write parses (the core then checks it is in the
     * future and not too far ahead); a time it cannot write (past year 9999, before 1970, numbers
     * beyond any instant) is a 400 {@code INVALID_EXPIRATION}, as the core's other expiry rules.
     */
    static Instant renewExpiration(JsonNode body) {
        JsonObject json = JsonObject.of(body, "body");
        String field = json.at("expiresAt");
        JsonNode value = json.field("expiresAt");
        if (value == null) {
            throw JsonObject.invalid(field, "Field required");
        }
        Instant expiresAt;
        if (value.isNumber()) {
            expiresAt = value.isFloatingPointNumber() && !value.isBigDecimal()
                ? Times.fromEpoch(value.doubleValue()) : Times.fromEpoch(value.decimalValue());
        } else if (value.isTextual()) {
            expiresAt = Times.parse(value.textValue(), field);
        } else {
            throw JsonObject.invalid(field, "Input should be a valid datetime");
        }
        if (!Times.isWritable(expiresAt)) {
            throw new InvalidRequestException(ErrorCodes.INVALID_EXPIRATION, field + " must be between "
                + Times.format(Instant.EPOCH) + " and " + Times.format(Times.LAST_WRITABLE.truncatedTo(
                    java.time.temporal.ChronoUnit.SECONDS)) + " (got " + value + ").");
        }
        return expiresAt;
    }

    /** The optional snapshot name; {@code ""} is a 422 as upstream. */
    static String snapshotName(JsonNode body) {
        if (body == null || body.isNull() || body.isMissingNode()) {
            return null;
        }
        JsonObject json = JsonObject.of(body, "body");
        String name = json.string("name");
        if (name != null && name.isEmpty()) {
            throw JsonObject.invalid(json.at("name"), "String should have at least 1 character");
        }
        return name;
    }
}
