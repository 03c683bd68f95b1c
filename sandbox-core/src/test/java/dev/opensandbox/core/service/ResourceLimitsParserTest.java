package dev.opensandbox.core.service;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.ResourceLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static dev.opensandbox.core.service.Errors.assertError;
import static dev.opensandbox.core.service.Errors.assertErrorContaining;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ResourceLimitsParserTest {

    private static ResourceLimits parse(String key, String value) {
        return ResourceLimitsParser.parse(Map.of(key, value));
    }

    @ParameterizedTest(name = "memory {0} = {1} bytes")
    @CsvSource({
        "512Mi, 536870912",
        "1Gi, 1073741824",
        "2gi, 2147483648",
        "1Ki, 1024",
        "1Ti, 1099511627776",
        "1G, 1000000000",
        "1g, 1000000000",
        "512m, 512000000",
        "512M, 512000000",
        "1k, 1000",
        "1kb, 1000",
        "1MB, 1000000",
        "1024, 1024",
        "1024b, 1024",
        "'  64Mi  ', 67108864",
    })
    void memoryUnitsAreDecimalOrBinaryAsUpstream(String value, long bytes) {
        assertEquals(OptionalLong.of(bytes), parse("memory", value).memoryBytes());
    }

    @ParameterizedTest(name = "memory ''{0}'' is rejected")
    @ValueSource(strings = {"1.5Gi", "0.5Gi", "-1", "bad", "", "   ", "1Xi", "1 Gi", "Gi", "1Gib"})
    void unparsableMemoryIsInvalidParameterNamingKeyAndValue(String value) {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits.memory '" + value + "': expected an integer with an optional unit such as 512Mi, 1Gi or 1G.",
            () -> parse("memory", value));
    }

    @Test
    void zeroMemoryIsRejected() {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits.memory '0': must be greater than zero.", () -> parse("memory", "0"));
    }

    @Test
    void memoryThatOverflowsALongIsRejectedNotWrapped() {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits.memory '9000000Ti': the value is too large.", () -> parse("memory", "9000000Ti"));
        assertErrorContaining(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER, "too large",
            () -> parse("memory", "99999999999999999999"));
    }

    @ParameterizedTest(name = "cpu {0} = {1}m")
    @CsvSource({"500m, 500", "2, 2000", "1.5, 1500", "0.5, 500", ".25, 250", "0.001, 1", "1.5000, 1500", "' 2 ', 2000"})
    void cpuBecomesMillicores(String value, long millis) {
        ResourceLimits limits = parse("cpu", value);
        assertEquals(OptionalLong.of(millis), limits.cpuMillis());
        assertEquals(OptionalLong.of(millis * 1_000_000L), limits.nanoCpus());
    }

    @ParameterizedTest(name = "cpu ''{0}'' is rejected")
    @ValueSource(strings = {"bad", "", "-1", "1.", "500M", "1e3", "2 cores", "0.5m"})
    void unparsableCpuIsInvalidParameter(String value) {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits.cpu '" + value + "': expected cores such as 2 or 0.5, or millicores such as 500m.",
            () -> parse("cpu", value));
    }

    @ParameterizedTest(name = "cpu ''{0}'' is not positive")
    @ValueSource(strings = {"0", "0m", "0.000"})
    void zeroCpuIsRejected(String value) {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits.cpu '" + value + "': must be greater than zero.", () -> parse("cpu", value));
    }

    @Test
    void cpuFinerThanOneMillicoreIsRejectedInsteadOfRounded() {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits.cpu '0.0001': the finest supported precision is 0.001 cores (1m).",
            () -> parse("cpu", "0.0001"));
        assertErrorContaining(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER, "finest supported precision",
            () -> parse("cpu", "1.0005"));
    }

    @Test
    void cpuThatWouldOverflowNanoCpusIsRejected() {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits.cpu '99999999999999': the value is too large.",
            () -> parse("cpu", "99999999999999"));
        assertErrorContaining(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER, "too large",
            () -> parse("cpu", "99999999999999999999m"));
    }

    @ParameterizedTest(name = "gpu {0} = {1}")
    @CsvSource({"1, 1", "8, 8", "all, -1", "ALL, -1", "All, -1"})
    void gpuIsAPositiveCountOrAll(String value, int count) {
        assertEquals(OptionalInt.of(count), parse("gpu", value).gpuCount());
    }

    @Test
    void allGpusIsTheAllGpusConstant() {
        assertEquals(OptionalInt.of(ResourceLimits.ALL_GPUS), parse("gpu", "all").gpuCount());
    }

    @ParameterizedTest(name = "gpu ''{0}'' is rejected")
    @ValueSource(strings = {"0", "-1", "bad", "", "1.5", "any"})
    void invalidGpuIsInvalidParameter(String value) {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits.gpu '" + value + "': expected a positive integer or 'all'.",
            () -> parse("gpu", value));
    }

    @Test
    void gpuCountBeyondIntIsTooLarge() {
        assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits.gpu '99999999999': the value is too large.", () -> parse("gpu", "99999999999"));
    }

    @Test
    void unknownKeysAreKeptInRawOnlyAndInOrder() {
        Map<String, String> raw = new LinkedHashMap<>();
        raw.put("disk", "10Gi");
        raw.put("memory", "1Gi");
        raw.put("nvidia.com/gpu", "whatever");
        ResourceLimits limits = ResourceLimitsParser.parse(raw);
        assertEquals(List.of("disk", "memory", "nvidia.com/gpu"), List.copyOf(limits.raw().keySet()));
        assertEquals(OptionalLong.of(1_073_741_824L), limits.memoryBytes());
        assertEquals(OptionalLong.empty(), limits.cpuMillis());
        assertEquals(OptionalInt.empty(), limits.gpuCount());
    }

    @Test
    void keysAreCaseSensitiveSoUpperCaseMemoryIsPassThrough() {
        ResourceLimits limits = parse("Memory", "not-a-size");
        assertEquals(OptionalLong.empty(), limits.memoryBytes());
        assertEquals("not-a-size", limits.raw().get("Memory"));
    }

    @Test
    void emptyOrNullMapHasNoLimits() {
        assertEquals(ResourceLimits.none(), ResourceLimitsParser.parse(Map.of()));
        assertEquals(ResourceLimits.none(), ResourceLimitsParser.parse(null));
    }

    @Test
    void nullValueIsInvalidParameter() {
        Map<String, String> raw = new LinkedHashMap<>();
        raw.put("cpu", null);
        assertErrorContaining(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
            "Invalid resourceLimits.cpu 'null'", () -> ResourceLimitsParser.parse(raw));
    }
}
