package dev.opensandbox.core.service;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.Labels;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The rules for user metadata: Kubernetes label syntax, the reserved {@code opensandbox.io/}
 * prefix, and the JSON Merge Patch used by {@code PATCH /sandboxes/{id}/metadata}.
 *
 * <p>Both runtimes apply Kubernetes label rules, even Docker, so that a sandbox's metadata can move
 * between runtimes and be used in label selectors; the messages are upstream's, word for word,
 * because clients show them to users.
 */
public final class MetadataRules {

    static final int MAX_NAME_LENGTH = 63;
    static final int MAX_PREFIX_LENGTH = 253;
    static final int MAX_VALUE_LENGTH = 63;

    private static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("^(?:" + DNS_LABEL + "\\.)*" + DNS_LABEL + "$");
    private static final Pattern LABEL_NAME = Pattern.compile("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$");
    private static final Pattern LABEL_VALUE = Pattern.compile("^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$");

    private MetadataRules() {
    }

    /**
     * Checks the metadata of a create request.
     *
     * @param metadata the user metadata; null or empty passes
     * @throws InvalidRequestException {@code SANDBOX::INVALID_METADATA_LABEL} for the first reserved
     *                                 key, invalid key or invalid value, in map order
     */
    public static void validateForCreate(Map<String, String> metadata) {
        if (metadata == null) {
            return;
        }
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            checkEntry(e.getKey(), e.getValue());
        }
    }

    /**
     * Checks the body of a metadata merge patch. A null value means "delete the key".
     *
     * <p>Every key is first checked for the reserved prefix, even when its value is null: deleting
     * a system label through this route would detach the sandbox from the server. Only then are the
     * non-null entries checked with the label rules; upstream does not check the keys of deletions,
     * so deleting a key that could never have been set is a harmless no-op here too.
     *
     * @param patch the patch body; null or empty passes
     * @throws InvalidRequestException {@code INVALID_METADATA_LABEL} (no namespace, as upstream) for a
     *                                 reserved key; {@code SANDBOX::INVALID_METADATA_LABEL} for an
     *                                 invalid key or value
     */
    public static void validatePatch(Map<String, String> patch) {
        if (patch == null) {
            return;
        }
        for (String key : patch.keySet()) {
            if (key != null && Labels.isReserved(key)) {
                throw new InvalidRequestException(ErrorCodes.PATCH_RESERVED_METADATA_LABEL,
                    "Metadata key '" + key + "' is reserved (opensandbox.io/ prefix).");
            }
        }
        for (Map.Entry<String, String> e : patch.entrySet()) {
            if (e.getValue() != null) {
                checkEntry(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * Applies an RFC 7396 merge patch to a flat string map: a string value adds or replaces, a null
     * value deletes (deleting an absent key is fine), an absent key is kept. Existing keys keep their
     * position; new keys are appended in patch order.
     *
     * @param current the metadata before the patch; null means empty
     * @param patch   the patch; null or empty returns a copy of {@code current}
     * @return a new unmodifiable map
     */
    public static Map<String, String> applyMergePatch(Map<String, String> current, Map<String, String> patch) {
        Map<String, String> result = current == null ? new LinkedHashMap<>() : new LinkedHashMap<>(current);
        if (patch != null) {
            for (Map.Entry<String, String> e : patch.entrySet()) {
                if (e.getValue() == null) {
                    result.remove(e.getKey());
                } else {
                    result.put(e.getKey(), e.getValue());
                }
            }
        }
        return Collections.unmodifiableMap(result);
    }

    /** True when {@code key} is a Kubernetes label key: {@code name} or {@code prefix/name}. */
    static boolean isValidKey(String key) {
        if (key == null) {
            return false;
        }
        String name = key;
        int slash = key.indexOf('/');
        if (slash >= 0) {
            String prefix = key.substring(0, slash);
            name = key.substring(slash + 1);
            // The whole key may exceed 253 characters: Kubernetes limits the prefix and the name separately.
            if (prefix.isEmpty() || prefix.length() > MAX_PREFIX_LENGTH || !DNS_SUBDOMAIN.matcher(prefix).matches()) {
                return false;
            }
        }
        return !name.isEmpty() && name.length() <= MAX_NAME_LENGTH && LABEL_NAME.matcher(name).matches();
    }

    /** True when {@code value} is a Kubernetes label value; the empty string is one. */
    static boolean isValidValue(String value) {
        return value != null && value.length() <= MAX_VALUE_LENGTH && LABEL_VALUE.matcher(value).matches();
    }

    private static void checkEntry(String key, String value) {
        if (key != null && Labels.isReserved(key)) {
            throw invalidLabel("Metadata key '" + key + "' uses the reserved prefix '" + Labels.RESERVED_PREFIX
                + "'. Keys under this prefix are managed by the system and cannot be set via metadata.");
        }
        if (!isValidKey(key)) {
            throw invalidLabel("Metadata key '" + key + "' is invalid: must be either a name or a DNS-subdomain"
                + " prefix and name separated by /, where the name is up to 63 characters and matches"
                + " [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, and the optional prefix is a valid DNS subdomain"
                + " up to 253 characters.");
        }
        if (!isValidValue(value)) {
            throw invalidLabel("Metadata value '" + value + "' is invalid: must be 63 characters or less,"
                + " start/end with an alphanumeric character, and contain only alphanumeric, '-', '_', or '.'"
                + " characters.");
        }
    }

    private static InvalidRequestException invalidLabel(String message) {
        return new InvalidRequestException(ErrorCodes.INVALID_METADATA_LABEL, message);
    }
}
