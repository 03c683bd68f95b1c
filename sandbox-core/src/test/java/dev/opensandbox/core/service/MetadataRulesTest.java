package dev.opensandbox.core.service;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.opensandbox.core.service.Errors.assertError;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetadataRulesTest {

    private static final String KEY_RULE = "is invalid: must be either a name or a DNS-subdomain prefix and name"
        + " separated by /, where the name is up to 63 characters and matches [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?,"
        + " and the optional prefix is a valid DNS subdomain up to 253 characters.";
    private static final String VALUE_RULE = "is invalid: must be 63 characters or less, start/end with an alphanumeric"
        + " character, and contain only alphanumeric, '-', '_', or '.' characters.";

    private static Map<String, String> map(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(key, value);
        return m;
    }

    /** A DNS subdomain of exactly {@code length} characters made of 63-character labels. */
    private static String subdomain(int length) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < length) {
            if (sb.length() > 0) {
                sb.append('.');
            }
            int label = Math.min(63, length - sb.length());
            sb.append("a".repeat(label));
        }
        return sb.toString();
    }

    @ParameterizedTest(name = "key {0} is accepted")
    @ValueSource(strings = {"app", "k8s.io/name", "example.com/label", "A", "a_b.c-D", "team-1/owner", "my.Label_1"})
    void validKeysAreAcceptedOnCreate(String key) {
        assertDoesNotThrow(() -> MetadataRules.validateForCreate(map(key, "v")));
        assertTrue(MetadataRules.isValidKey(key));
    }

    @ParameterizedTest(name = "value ''{0}'' is accepted")
    @ValueSource(strings = {"a.b_c-1", "", "x", "Prod"})
    void validValuesIncludingEmptyAreAccepted(String value) {
        assertDoesNotThrow(() -> MetadataRules.validateForCreate(map("app", value)));
    }

    @Test
    void sixtyThreeCharacterNameAndValueAreAccepted() {
        assertDoesNotThrow(() -> MetadataRules.validateForCreate(map("n".repeat(63), "v".repeat(63))));
    }

    @Test
    void prefixOf251CharactersPlusNameIsAcceptedEvenThoughTheKeyExceeds253() {
        String key = subdomain(251) + "/name";
        assertEquals(256, key.length());
        assertDoesNotThrow(() -> MetadataRules.validateForCreate(map(key, "v")));
        String maxPrefix = subdomain(253) + "/" + "n".repeat(63);
        assertDoesNotThrow(() -> MetadataRules.validateForCreate(map(maxPrefix, "v")));
    }

    @ParameterizedTest(name = "key ''{0}'' is invalid")
    @ValueSource(strings = {"/name", "INVALID_PREFIX.io/name", "example.com/", "-app", "app-", "a b", "a/b/c",
        "Example.com/name", "exa_mple.com/name", ".example.com/name", ""})
    void invalidKeyOnCreateIsInvalidMetadataLabel(String key) {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
            "Metadata key '" + key + "' " + KEY_RULE, () -> MetadataRules.validateForCreate(map(key, "v")));
    }

    @Test
    void nameLongerThan63IsInvalid() {
        String key = "n".repeat(64);
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
            "Metadata key '" + key + "' " + KEY_RULE, () -> MetadataRules.validateForCreate(map(key, "v")));
        assertFalse(MetadataRules.isValidKey("example.com/" + key));
    }

    @Test
    void prefixLongerThan253IsInvalid() {
        String key = subdomain(254) + "/name";
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
            "Metadata key '" + key + "' " + KEY_RULE, () -> MetadataRules.validateForCreate(map(key, "v")));
    }

    @ParameterizedTest(name = "value ''{0}'' is invalid")
    @ValueSource(strings = {"-a", "a-", "a b", "a/b", "é", "a\n"})
    void invalidValueOnCreateIsInvalidMetadataLabel(String value) {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
            "Metadata value '" + value + "' " + VALUE_RULE, () -> MetadataRules.validateForCreate(map("app", value)));
    }

    @Test
    void sixtyFourCharacterValueIsInvalid() {
        String value = "v".repeat(64);
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
            "Metadata value '" + value + "' " + VALUE_RULE, () -> MetadataRules.validateForCreate(map("app", value)));
    }

    @Test
    void reservedMetadataKeyOnCreateIsInvalidMetadataLabel() {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
            "Metadata key 'opensandbox.io/id' uses the reserved prefix 'opensandbox.io/'. Keys under this prefix are"
                + " managed by the system and cannot be set via metadata.",
            () -> MetadataRules.validateForCreate(map("opensandbox.io/id", "x")));
    }

    @Test
    void firstOffendingEntryInMapOrderIsReported() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ok", "fine");
        m.put("bad key", "v");
        m.put("opensandbox.io/x", "v");
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
            "Metadata key 'bad key' " + KEY_RULE, () -> MetadataRules.validateForCreate(m));
    }

    @Test
    void nullOrEmptyMetadataPassesOnCreate() {
        assertDoesNotThrow(() -> MetadataRules.validateForCreate(null));
        assertDoesNotThrow(() -> MetadataRules.validateForCreate(Map.of()));
    }

    @Test
    void reservedKeyInPatchIsUnnamespacedInvalidMetadataLabelEvenForDeletion() {
        assertError(InvalidRequestException.class, "INVALID_METADATA_LABEL",
            "Metadata key 'opensandbox.io/expires-at' is reserved (opensandbox.io/ prefix).",
            () -> MetadataRules.validatePatch(map("opensandbox.io/expires-at", null)));
        assertError(InvalidRequestException.class, ErrorCodes.PATCH_RESERVED_METADATA_LABEL,
            "Metadata key 'opensandbox.io/id' is reserved (opensandbox.io/ prefix).",
            () -> MetadataRules.validatePatch(map("opensandbox.io/id", "other")));
    }

    @Test
    void reservedKeyInPatchWinsOverAnEarlierInvalidEntry() {
        Map<String, String> patch = new LinkedHashMap<>();
        patch.put("bad key", "v");
        patch.put("opensandbox.io/id", null);
        assertError(InvalidRequestException.class, ErrorCodes.PATCH_RESERVED_METADATA_LABEL,
            "Metadata key 'opensandbox.io/id' is reserved (opensandbox.io/ prefix).",
            () -> MetadataRules.validatePatch(patch));
    }

    @Test
    void nonNullPatchEntriesFollowTheLabelRules() {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
            "Metadata key '/name' " + KEY_RULE, () -> MetadataRules.validatePatch(map("/name", "v")));
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
            "Metadata value 'a b' " + VALUE_RULE, () -> MetadataRules.validatePatch(map("app", "a b")));
    }

    @Test
    void deletionOfAnInvalidKeyIsNotCheckedAsUpstream() {
        assertDoesNotThrow(() -> MetadataRules.validatePatch(map("bad key", null)));
        assertDoesNotThrow(() -> MetadataRules.validatePatch(Map.of()));
        assertDoesNotThrow(() -> MetadataRules.validatePatch(null));
    }

    @Test
    void mergePatchAddsReplacesDeletesAndKeepsAbsentKeys() {
        Map<String, String> current = new LinkedHashMap<>();
        current.put("a", "1");
        current.put("b", "2");
        current.put("c", "3");
        Map<String, String> patch = new LinkedHashMap<>();
        patch.put("b", "20");
        patch.put("c", null);
        patch.put("d", "4");
        patch.put("missing", null);

        Map<String, String> result = MetadataRules.applyMergePatch(current, patch);

        assertEquals(Map.of("a", "1", "b", "20", "d", "4"), result);
        assertEquals(List.of("a", "b", "d"), List.copyOf(result.keySet()), "existing keys keep their position");
        assertEquals("3", current.get("c"), "the input is not modified");
    }

    @Test
    void emptyMergePatchIsANoOpReturningAnUnmodifiableCopy() {
        Map<String, String> current = new LinkedHashMap<>(Map.of("a", "1"));
        Map<String, String> result = MetadataRules.applyMergePatch(current, Map.of());
        assertEquals(current, result);
        assertThrows(UnsupportedOperationException.class, () -> result.put("x", "y"));
        assertEquals(Map.of("a", "1"), MetadataRules.applyMergePatch(current, null));
        assertEquals(Map.of("k", "v"), MetadataRules.applyMergePatch(null, Map.of("k", "v")));
    }
}
