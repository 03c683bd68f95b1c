package dev.opensandbox.core.service;

import dev.opensandbox.core.ConflictException;
import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.ImageSpec;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.MalformedRequestException;
import dev.opensandbox.core.NetworkPolicy;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.Platform;
import dev.opensandbox.core.ResourceLimits;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.spi.RuntimeCapabilities;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static dev.opensandbox.core.service.Errors.assertError;
import static dev.opensandbox.core.service.Errors.assertErrorContaining;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CreateSandboxValidatorTest {

    static final RuntimeCapabilities DOCKER = new RuntimeCapabilities("DOCKER", true, true, true, true, true, false);
    static final RuntimeCapabilities KUBERNETES =
        new RuntimeCapabilities("KUBERNETES", true, true, true, true, true, true);
    static final SnapshotResolver NO_SNAPSHOTS = id -> {
        throw new AssertionError("the resolver must not be called for " + id);
    };
    static final SnapshotResolver READY_SNAPSHOT = id -> "registry.local/snapshots:" + id;

    private final CreateSandboxValidator docker = new CreateSandboxValidator(ServicePolicy.defaults(), DOCKER);

    /** A request that passes every rule: image, entrypoint and an empty limits map. */
    static SandboxSpec.Builder valid() {
        return SandboxSpec.builder().image("python:3.11").entrypoint("python", "-m", "http.server")
            .resourceLimits(Map.of());
    }

    static SandboxSpec.Builder restore(String snapshotId) {
        return SandboxSpec.builder().snapshotId(snapshotId).resourceLimits(Map.of());
    }

    static SandboxSpec.Builder pool() {
        return SandboxSpec.builder().extension("poolRef", "warm-python");
    }

    private ValidatedSpec validate(SandboxSpec spec) {
        return docker.validate(spec, NO_SNAPSHOTS);
    }

    @Test
    void validImageRequestYieldsImageEntrypointAndParsedLimits() {
        ValidatedSpec v = validate(valid().resourceLimits(Map.of("memory", "512Mi", "cpu", "500m")).build());

        assertEquals(ImageSpec.of("python:3.11"), v.image());
        assertEquals(List.of("python", "-m", "http.server"), v.entrypoint());
        assertEquals(OptionalLong.of(536_870_912L), v.limits().memoryBytes());
        assertEquals(OptionalLong.of(500L), v.limits().cpuMillis());
        assertNull(v.renewExtendSeconds());
        assertFalse(v.poolMode());
    }

    @Test
    void entrypointIsNeverShellSplit() {
        ValidatedSpec v = validate(valid().entrypoint("sh -c 'sleep 10'").build());
        assertEquals(List.of("sh -c 'sleep 10'"), v.entrypoint());
    }

    @Nested
    class SchemaRules {

        @Test
        void poolWithSnapshotIsRejectedBeforeEveryOtherCrossFieldRule() {
            SandboxSpec spec = pool().snapshotId("snap-1").image("python:3.11").credentialProxy(true).build();
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "snapshotId cannot be used together with poolRef.", () -> validate(spec));
        }

        @Test
        void blankSnapshotIdDoesNotConflictWithPoolRef() {
            ValidatedSpec v = new CreateSandboxValidator(ServicePolicy.defaults(), KUBERNETES)
                .validate(pool().snapshotId("  ").build(), NO_SNAPSHOTS);
            assertTrue(v.poolMode());
            assertNull(v.spec().snapshotId());
        }

        @Test
        void poolWithCredentialProxyIsRejected() {
            SandboxSpec spec = pool().credentialProxy(true).networkPolicy(new NetworkPolicy("deny", List.of())).build();
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "credentialProxy.enabled cannot be used together with poolRef.", () -> validate(spec));
        }

        @Test
        void credentialProxyWithoutNetworkPolicyIsRejectedBeforeTheSourceRule() {
            SandboxSpec spec = SandboxSpec.builder().credentialProxy(true).build();
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "credentialProxy.enabled requires networkPolicy.", () -> validate(spec));
        }

        @Test
        void credentialProxyWithNetworkPolicyIsAccepted() {
            ValidatedSpec v = validate(valid().credentialProxy(true).networkPolicy(new NetworkPolicy(null, null)).build());
            assertTrue(v.spec().credentialProxy());
        }

        @Test
        void neitherImageNorSnapshotIsRejected() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "Exactly one of image or snapshotId must be provided.",
                () -> validate(SandboxSpec.builder().resourceLimits(Map.of()).build()));
        }

        @Test
        void bothImageAndSnapshotAreRejected() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "Exactly one of image or snapshotId must be provided.",
                () -> validate(valid().snapshotId("snap-1").build()));
        }

        @Test
        void whitespaceImageAndSnapshotCountAsAbsent() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "Exactly one of image or snapshotId must be provided.",
                () -> validate(valid().image("   ").snapshotId(" ").build()));
        }

        @Test
        void whitespaceImageWithSnapshotIsARestoreAndTheBlankImageIsDropped() {
            ValidatedSpec v = docker.validate(restore("snap-1").image("  ").build(), READY_SNAPSHOT);
            assertEquals(ImageSpec.of("registry.local/snapshots:snap-1"), v.image());
            assertNull(v.spec().image());
        }

        @Test
        void imageWithoutEntrypointIsRejectedBeforeMissingResourceLimits() {
            SandboxSpec spec = SandboxSpec.builder().image("python:3.11").build();
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "Entrypoint is required when image is provided.", () -> validate(spec));
        }

        @Test
        void missingResourceLimitsIsRejectedOutsidePoolMode() {
            SandboxSpec spec = valid().resourceLimits(null).build();
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "resourceLimits is required when poolRef is not provided.", () -> validate(spec));
        }

        @Test
        void emptyEntrypointListIsMalformedEvenForARestore() {
            SandboxSpec spec = restore("snap-1").entrypoint(List.of()).build();
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "entrypoint must contain at least 1 item.", () -> docker.validate(spec, READY_SNAPSHOT));
        }

        @Test
        void timeoutBelowSixtySecondsIsMalformed() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "timeout must be greater than or equal to 60 seconds.",
                () -> validate(valid().timeout(Duration.ofSeconds(59)).build()));
            assertEquals(Duration.ofSeconds(60), validate(valid().timeout(Duration.ofSeconds(60)).build()).spec().timeout());
        }

        @Test
        void fieldRulesAreCheckedBeforeCrossFieldRulesAsUpstreamSchemaDoes() {
            SandboxSpec spec = SandboxSpec.builder().timeout(Duration.ofSeconds(10)).build();
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "timeout must be greater than or equal to 60 seconds.", () -> validate(spec));
        }

        @Test
        void nullMetadataValueIsMalformed() {
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("team", null);
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "metadata['team'] must be a string, not null.", () -> validate(valid().metadata(metadata).build()));
        }

        @Test
        void emptyEgressTargetIsMalformed() {
            NetworkPolicy policy = new NetworkPolicy("deny", List.of(new NetworkPolicy.Rule("allow", "")));
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "networkPolicy.egress[0].target must not be empty.", () -> validate(valid().networkPolicy(policy).build()));
        }

        @Test
        void aBlankEgressTargetIsAnInvalidParameterAndTargetsAreTrimmed() {
            NetworkPolicy blank = new NetworkPolicy("deny", List.of(new NetworkPolicy.Rule("allow", "  ")));
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "networkPolicy.egress[0].target must name a domain, IP or CIDR, not blanks.",
                () -> validate(valid().networkPolicy(blank).build()));
            NetworkPolicy padded = new NetworkPolicy("deny", List.of(new NetworkPolicy.Rule("allow", " pypi.org ")));
            assertEquals("pypi.org", validate(valid().networkPolicy(padded).build()).spec().networkPolicy().egress().get(0).target());
        }

        @Test
        void poolModeRequiresNeitherImageNorEntrypointNorLimits() {
            ValidatedSpec v = new CreateSandboxValidator(ServicePolicy.defaults(), KUBERNETES)
                .validate(pool().build(), NO_SNAPSHOTS);
            assertTrue(v.poolMode());
            assertNull(v.image());
            assertNull(v.entrypoint());
            assertEquals(ResourceLimits.none(), v.limits());
        }
    }

    @Nested
    class RenewExtension {

        private ValidatedSpec withExtend(String value) {
            return validate(valid().extension("access.renew.extend.seconds", value).build());
        }

        @Test
        void boundsAreInclusive() {
            assertEquals(300, withExtend("300").renewExtendSeconds());
            assertEquals(86_400, withExtend("86400").renewExtendSeconds());
        }

        @Test
        void surroundingWhitespaceIsTrimmed() {
            assertEquals(600, withExtend(" 600 ").renewExtendSeconds());
        }

        @ParameterizedTest(name = "{0} is out of range")
        @ValueSource(strings = {"299", "86401", "0", "-600", "99999999999999999999"})
        void valuesOutsideTheBoundsAreRejected(String value) {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "Invalid extensions['access.renew.extend.seconds'] '" + value
                    + "': out of range; must be between 300 and 86400 seconds inclusive.",
                () -> withExtend(value));
        }

        @ParameterizedTest(name = "''{0}'' is not an integer")
        @ValueSource(strings = {"abc", "600s", "6e2", "600.0", "0x258"})
        void nonIntegersAreRejected(String value) {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "Invalid extensions['access.renew.extend.seconds'] '" + value
                    + "': not a base-10 integer; expected an integer between 300 and 86400 seconds.",
                () -> withExtend(value));
        }

        @ParameterizedTest(name = "''{0}'' is empty")
        @ValueSource(strings = {"", "   "})
        void emptyValueIsRejected(String value) {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "Invalid extensions['access.renew.extend.seconds']: the value is empty; expected an integer between"
                    + " 300 and 86400 seconds.",
                () -> withExtend(value));
        }

        @Test
        void extensionIsCheckedBeforePoolSupport() {
            SandboxSpec spec = pool().extension("access.renew.extend.seconds", "10").build();
            assertErrorContaining(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER, "out of range",
                () -> validate(spec));
        }
    }

    @Nested
    class PoolSupport {

        @Test
        void poolRefIsRejectedWhenTheRuntimeHasNoPools() {
            assertError(InvalidRequestException.class, ErrorCodes.UNSUPPORTED_POOL_REF,
                "poolRef is not supported by the docker runtime.", () -> validate(pool().build()));
        }

        @Test
        void blankPoolRefIsNotPoolMode() {
            ValidatedSpec v = validate(valid().extension("poolRef", " ").build());
            assertFalse(v.poolMode());
        }
    }

    @Nested
    class SnapshotRestore {

        @Test
        void restoreRunsTheSnapshotImageWithTheDefaultEntrypoint() {
            List<String> asked = new ArrayList<>();
            ValidatedSpec v = docker.validate(restore("snap-1").build(), id -> {
                asked.add(id);
                return "registry.local/snap:1";
            });
            assertEquals(List.of("snap-1"), asked);
            assertEquals(ImageSpec.of("registry.local/snap:1"), v.image());
            assertEquals(List.of("tail", "-f", "/dev/null"), v.entrypoint());
            assertEquals("snap-1", v.spec().snapshotId());
        }

        @Test
        void restoreKeepsAnExplicitEntrypoint() {
            ValidatedSpec v = docker.validate(restore("snap-1").entrypoint("bash").build(), READY_SNAPSHOT);
            assertEquals(List.of("bash"), v.entrypoint());
        }

        @Test
        void resolverErrorsPropagateBeforeMetadataIsChecked() {
            SandboxSpec spec = restore("missing").metadata("opensandbox.io/id", "x").build();
            assertError(NotFoundException.class, ErrorCodes.SNAPSHOT_NOT_FOUND, "Snapshot missing not found.",
                () -> docker.validate(spec, id -> {
                    throw new NotFoundException(ErrorCodes.SNAPSHOT_NOT_FOUND, "Snapshot " + id + " not found.");
                }));
        }

        @Test
        void resolverReturningNoImageIsAnInvalidRestoreConfig() {
            assertError(ConflictException.class, ErrorCodes.SNAPSHOT_INVALID_RESTORE_CONFIG,
                "Snapshot snap-1 has no image to restore from.",
                () -> docker.validate(restore("snap-1").build(), id -> " "));
        }

        @Test
        void poolRefWithSnapshotNeverReachesTheResolver() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "snapshotId cannot be used together with poolRef.",
                () -> docker.validate(pool().snapshotId("snap-1").build(), NO_SNAPSHOTS));
        }
    }

    @Nested
    class MetadataAndPlatform {

        @Test
        void reservedMetadataKeyOnCreateIsInvalidMetadataLabel() {
            assertErrorContaining(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
                "Metadata key 'opensandbox.io/id' uses the reserved prefix 'opensandbox.io/'.",
                () -> validate(valid().metadata("opensandbox.io/id", "x").build()));
        }

        @Test
        void metadataIsCheckedBeforePlatform() {
            SandboxSpec spec = valid().metadata("bad key", "x").platform(new Platform("plan9", "mips")).build();
            assertErrorContaining(InvalidRequestException.class, ErrorCodes.INVALID_METADATA_LABEL,
                "Metadata key 'bad key' is invalid", () -> validate(spec));
        }

        @Test
        void platformIsTrimmedAndLowerCased() {
            ValidatedSpec v = validate(valid().platform(new Platform(" Linux ", "ARM64")).build());
            assertEquals(new Platform("linux", "arm64"), v.spec().platform());
        }

        @Test
        void unsupportedOsIsInvalidParameterListingSupportedValues() {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "Unsupported platform.os 'darwin'. Supported values: ['linux', 'windows'].",
                () -> validate(valid().platform(new Platform("darwin", "s390x")).build()));
        }

        @Test
        void unsupportedArchIsInvalidParameterListingSupportedValues() {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "Unsupported platform.arch 'x86_64'. Supported values: ['amd64', 'arm64'].",
                () -> validate(valid().platform(new Platform("windows", "x86_64")).build()));
        }
    }

    @Nested
    class Timeout {

        private final CreateSandboxValidator capped =
            new CreateSandboxValidator(new ServicePolicy(Duration.ofHours(1), List.of()), DOCKER);

        @Test
        void timeoutEqualToTheMaximumIsAccepted() {
            ValidatedSpec v = capped.validate(valid().timeout(Duration.ofSeconds(3600)).build(), NO_SNAPSHOTS);
            assertEquals(Duration.ofHours(1), v.spec().timeout());
        }

        @Test
        void timeoutAboveTheMaximumIsRejected() {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "Sandbox timeout 3601s exceeds configured maximum of 3600s.",
                () -> capped.validate(valid().timeout(Duration.ofSeconds(3601)).build(), NO_SNAPSHOTS));
        }

        @Test
        void withoutACapLongTimeoutsAndManualCleanupAreAccepted() {
            assertEquals(Duration.ofDays(3650), validate(valid().timeout(Duration.ofDays(3650)).build()).spec().timeout());
            assertNull(validate(valid().build()).spec().timeout());
        }

        @ParameterizedTest(name = "{0}s is too large")
        @ValueSource(longs = {1_000_000_000_000_000L, Long.MAX_VALUE, 253_402_300_800L})
        void absurdlyLargeTimeoutIsRejectedBeforeTheMaximum(long seconds) {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "Sandbox timeout " + seconds + "s is too large to represent safely.",
                () -> capped.validate(valid().timeout(Duration.ofSeconds(seconds)).build(), NO_SNAPSHOTS));
        }

        @Test
        void nonPositiveMaximumIsAConfigurationError() {
            assertThrows(IllegalArgumentException.class,
                () -> new ServicePolicy(Duration.ZERO, List.of()));
        }
    }

    @Nested
    class Network {

        @Test
        void actionsAreCaseInsensitiveAndNormalizedToLowerCase() {
            NetworkPolicy policy = new NetworkPolicy("DENY", List.of(new NetworkPolicy.Rule("Allow", "pypi.org")));
            ValidatedSpec v = validate(valid().networkPolicy(policy).build());
            assertEquals(new NetworkPolicy("deny", List.of(new NetworkPolicy.Rule("allow", "pypi.org"))),
                v.spec().networkPolicy());
        }

        @Test
        void absentDefaultActionStaysAbsent() {
            ValidatedSpec v = validate(valid().networkPolicy(new NetworkPolicy(null, null)).build());
            assertNull(v.spec().networkPolicy().defaultAction());
        }

        @Test
        void unknownDefaultActionIsInvalidParameter() {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "Unsupported networkPolicy.defaultAction 'block'. Supported values: ['allow', 'deny'].",
                () -> validate(valid().networkPolicy(new NetworkPolicy("block", null)).build()));
        }

        @Test
        void unknownRuleActionIsInvalidParameterNamingTheRule() {
            NetworkPolicy policy = new NetworkPolicy("deny", List.of(
                new NetworkPolicy.Rule("allow", "pypi.org"), new NetworkPolicy.Rule("permit", "github.com")));
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "Unsupported networkPolicy.egress[1].action 'permit'. Supported values: ['allow', 'deny'].",
                () -> validate(valid().networkPolicy(policy).build()));
        }
    }

    @Nested
    class LimitsLast {

        @Test
        void unparsableLimitIsInvalidParameter() {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "Invalid resourceLimits.memory '1.5Gi': expected an integer with an optional unit such as 512Mi, 1Gi or 1G.",
                () -> validate(valid().resourceLimits(Map.of("memory", "1.5Gi")).build()));
        }

        @Test
        void volumeErrorsComeBeforeLimitErrors() {
            SandboxSpec spec = valid().resourceLimits(Map.of("memory", "bad"))
                .volume(VolumeRulesTest.host("data", "/data/x")).build();
            assertErrorContaining(InvalidRequestException.class, ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED,
                "Host path '/data/x'", () -> validate(spec));
        }

        @Test
        void poolModeLimitsAreParsedWhenGiven() {
            ValidatedSpec v = new CreateSandboxValidator(ServicePolicy.defaults(), KUBERNETES)
                .validate(pool().resourceLimits(Map.of("cpu", "2")).build(), NO_SNAPSHOTS);
            assertEquals(OptionalLong.of(2000L), v.limits().cpuMillis());
        }
    }

    @Nested
    class CommandAndEnvironment {

        @Test
        void anEmptyProgramNameIsRefusedBeforeTheEngineSeesIt() {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_ENTRYPOINT,
                "entrypoint[0] must name the program to run, not an empty string.",
                () -> validate(valid().entrypoint("").build()));
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_ENTRYPOINT,
                "entrypoint[0] must name the program to run, not an empty string.",
                () -> validate(valid().entrypoint(" ", "x").build()));
        }

        @Test
        void emptyArgumentsAfterTheProgramAreKept() {
            assertEquals(List.of("sh", "-c", ""), validate(valid().entrypoint("sh", "-c", "").build()).entrypoint());
        }

        @Test
        void aNulInAnArgumentIsRefused() {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_ENTRYPOINT,
                "entrypoint[1] contains a NUL character, which a command line cannot carry.",
                () -> validate(valid().entrypoint("echo", "a\0b").build()));
        }

        @Test
        void envNamesMustBeNonEmptyWithoutEqualsOrNul() {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "env: a variable name must not be empty.", () -> validate(valid().env("", "x").build()));
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "env['A=B']: a variable name must not contain '='.", () -> validate(valid().env("A=B", "x").build()));
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "env['A\\u0000']: a variable name must not contain a NUL character.",
                () -> validate(valid().env("A\0", "x").build()));
        }

        @Test
        void aNulInAnEnvValueIsRefusedAndOtherValuesPass() {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "env['TOKEN']: the value must not contain a NUL character.",
                () -> validate(valid().env("TOKEN", "abc\0def").build()));
            ValidatedSpec v = validate(valid().env("EMPTY", "").env("EQUALS", "a=b=c").env("LINES", "a\nb").build());
            assertEquals(Map.of("EMPTY", "", "EQUALS", "a=b=c", "LINES", "a\nb"), v.spec().env());
        }
    }

    @Nested
    class ResourceDefaultsAndMaxima {

        private final CreateSandboxValidator bounded = new CreateSandboxValidator(ServicePolicy.defaults()
            .withResourceLimits(Map.of("cpu", "1", "memory", "1Gi"), Map.of("cpu", "2", "memory", "4Gi")), DOCKER);

        private ValidatedSpec boundedValidate(Map<String, String> limits) {
            return bounded.validate(valid().resourceLimits(limits).build(), NO_SNAPSHOTS);
        }

        @Test
        void emptyLimitsGetTheDefaultsInTheSpecAndInTheParsedLimits() {
            ValidatedSpec v = boundedValidate(Map.of());
            assertEquals(OptionalLong.of(1000L), v.limits().cpuMillis());
            assertEquals(OptionalLong.of(1L << 30), v.limits().memoryBytes());
            assertEquals(Map.of("cpu", "1", "memory", "1Gi"), v.spec().resourceLimits(),
                "the runtime's own checks see the effective limits");
        }

        @Test
        void aRequestedValueWithinTheMaximumIsKept() {
            ValidatedSpec v = boundedValidate(Map.of("memory", "4Gi", "gpu", "1"));
            assertEquals(OptionalLong.of(4L << 30), v.limits().memoryBytes());
            assertEquals(OptionalLong.of(1000L), v.limits().cpuMillis(), "the missing cpu gets its default");
            assertEquals("1", v.spec().resourceLimits().get("gpu"));
        }

        @Test
        void aValueAboveTheMaximumIsRefusedNamingTheMaximum() {
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "resourceLimits.memory '5Gi' exceeds the configured maximum of 4Gi ([server] max_resource_limits).",
                () -> boundedValidate(Map.of("memory", "5Gi")));
            assertError(InvalidRequestException.class, ErrorCodes.INVALID_PARAMETER,
                "resourceLimits.cpu '2001m' exceeds the configured maximum of 2 ([server] max_resource_limits).",
                () -> boundedValidate(Map.of("cpu", "2001m")));
        }

        @Test
        void withAMaximumAndNoDefaultTheMaximumIsTheLimit() {
            CreateSandboxValidator capped = new CreateSandboxValidator(ServicePolicy.defaults()
                .withResourceLimits(Map.of(), Map.of("memory", "2Gi")), DOCKER);
            ValidatedSpec v = capped.validate(valid().resourceLimits(Map.of()).build(), NO_SNAPSHOTS);
            assertEquals(OptionalLong.of(2L << 30), v.limits().memoryBytes());
            assertEquals(OptionalLong.empty(), v.limits().cpuMillis(), "no cpu bound configured");
        }

        @Test
        void withoutBoundsEmptyLimitsStayUnlimitedAsUpstream() {
            ValidatedSpec v = validate(valid().resourceLimits(Map.of()).build());
            assertEquals(ResourceLimits.none(), v.limits());
        }

        @Test
        void poolRequestsKeepThePoolsOwnLimits() {
            CreateSandboxValidator pools = new CreateSandboxValidator(ServicePolicy.defaults()
                .withResourceLimits(Map.of("memory", "1Gi"), Map.of()), KUBERNETES);
            ValidatedSpec v = pools.validate(pool().build(), NO_SNAPSHOTS);
            assertEquals(ResourceLimits.none(), v.limits());
        }

        @Test
        void policiesWithUnknownKeysBadValuesOrADefaultAboveTheMaximumAreConfigurationErrors() {
            assertThrows(IllegalArgumentException.class,
                () -> ServicePolicy.defaults().withResourceLimits(Map.of("gpu", "1"), Map.of()));
            assertThrows(IllegalArgumentException.class,
                () -> ServicePolicy.defaults().withResourceLimits(Map.of("memory", "lots"), Map.of()));
            IllegalArgumentException above = assertThrows(IllegalArgumentException.class,
                () -> ServicePolicy.defaults().withResourceLimits(Map.of("cpu", "4"), Map.of("cpu", "2")));
            assertEquals("default_resource_limits.cpu '4' is above max_resource_limits.cpu '2'", above.getMessage());
        }
    }
}
