package dev.opensandbox.core.service;

import dev.opensandbox.core.ErrorCodes;
import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.MalformedRequestException;
import dev.opensandbox.core.SandboxSpec;
import dev.opensandbox.core.VolumeBackend;
import dev.opensandbox.core.VolumeSpec;
import dev.opensandbox.core.spi.RuntimeCapabilities;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static dev.opensandbox.core.service.Errors.assertError;
import static dev.opensandbox.core.service.Errors.assertErrorContaining;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Volume rules, exercised through {@link CreateSandboxValidator} so that their place in the order counts. */
class VolumeRulesTest {

    private static final RuntimeCapabilities DOCKER = CreateSandboxValidatorTest.DOCKER;
    private static final String NOT_ALLOWED_SUFFIX = "' is not under any allowed prefix ([storage] allowed_host_paths).";

    static VolumeSpec host(String name, String path) {
        return new VolumeSpec(name, "/mnt/" + name, false, null, new VolumeBackend.Host(path));
    }

    static VolumeSpec pvc(String name, String claim) {
        return new VolumeSpec(name, "/mnt/" + name, false, null, new VolumeBackend.Pvc(claim, true, false, null, null, null));
    }

    static VolumeBackend.Ossfs ossfs(String bucket, String endpoint, String version, List<String> options) {
        return new VolumeBackend.Ossfs(bucket, endpoint, version, options, "AKID", "secret");
    }

    static VolumeSpec ossfsVolume(VolumeBackend.Ossfs backend) {
        return new VolumeSpec("oss", "/mnt/oss", true, null, backend);
    }

    private static ValidatedSpec validate(List<String> allowed, VolumeSpec... volumes) {
        SandboxSpec spec = CreateSandboxValidatorTest.valid().volumes(List.of(volumes)).build();
        return new CreateSandboxValidator(new ServicePolicy(null, allowed), DOCKER)
            .validate(spec, CreateSandboxValidatorTest.NO_SNAPSHOTS);
    }

    private static ValidatedSpec validate(VolumeSpec... volumes) {
        return validate(List.of("/data/opensandbox"), volumes);
    }

    @Nested
    class Shape {

        @ParameterizedTest(name = "name ''{0}'' is malformed")
        @ValueSource(strings = {"Data", "data_1", "-data", "data-", ""})
        void volumeNameMustBeADnsLabel(String name) {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].name '" + name + "' is invalid: must be at most 63 characters and match"
                    + " ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$.",
                () -> validate(new VolumeSpec(name, "/mnt", false, null, new VolumeBackend.Pvc("c", true, false, null, null, null))));
        }

        @Test
        void volumeNameLongerThan63IsMalformed() {
            String name = "v".repeat(64);
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].name '" + name + "' is invalid: must be at most 63 characters and match"
                    + " ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$.",
                () -> validate(pvc(name, "claim")));
        }

        @Test
        void mountPathMustBeAbsolute() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].mountPath 'mnt/data' must be an absolute path starting with '/'.",
                () -> validate(new VolumeSpec("data", "mnt/data", false, null, new VolumeBackend.Host("/data/opensandbox"))));
        }

        @ParameterizedTest(name = "host path ''{0}'' is malformed")
        @ValueSource(strings = {"data", "C:data", "~/data", ""})
        void hostPathMustBeAbsoluteOrStartWithADriveLetter(String path) {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].host.path '" + path + "' must be an absolute path starting with '/' or a Windows drive"
                    + " letter (e.g. 'C:\\' or 'D:/').",
                () -> validate(host("data", path)));
        }

        @Test
        void claimNameMustBeADnsLabelOfAtMost253Characters() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].pvc.claimName 'My_Claim' is invalid: must be at most 253 characters and match"
                    + " ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$.",
                () -> validate(pvc("data", "My_Claim")));
            String longClaim = "c".repeat(254);
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].pvc.claimName '" + longClaim + "' is invalid: must be at most 253 characters and match"
                    + " ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$.",
                () -> validate(pvc("data", longClaim)));
            assertEquals(1, validate(pvc("data", "c".repeat(253))).spec().volumes().size());
        }

        @Test
        void pvcStorageMustBeABinaryQuantity() {
            VolumeSpec bad = new VolumeSpec("data", "/mnt", false, null,
                new VolumeBackend.Pvc("claim", true, false, null, "1GB", null));
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].pvc.storage '1GB' is invalid: must match ^\\d+(\\.\\d+)?(Ki|Mi|Gi|Ti|Pi|Ei)?$, for example 1Gi.",
                () -> validate(bad));
            VolumeSpec good = new VolumeSpec("data", "/mnt", false, null,
                new VolumeBackend.Pvc("claim", true, false, "fast", "1.5Gi", List.of("ReadWriteOnce")));
            assertEquals(1, validate(good).spec().volumes().size());
        }

        @ParameterizedTest(name = "bucket ''{0}'' has a bad length")
        @ValueSource(strings = {"ab", ""})
        void ossfsBucketMustBe3To63Characters(String bucket) {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].ossfs.bucket must be between 3 and 63 characters long.",
                () -> validate(ossfsVolume(ossfs(bucket, "oss-cn-hangzhou.aliyuncs.com", null, null))));
        }

        @Test
        void ossfsBucketOf64CharactersIsMalformed() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].ossfs.bucket must be between 3 and 63 characters long.",
                () -> validate(ossfsVolume(ossfs("b".repeat(64), "oss.example.com", null, null))));
        }

        @Test
        void ossfsEndpointMustNotBeEmpty() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].ossfs.endpoint must not be empty.",
                () -> validate(ossfsVolume(ossfs("bucket", "", null, null))));
        }

        @Test
        void ossfsVersionMustBeOneOrTwo() {
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].ossfs.version '3.0' is invalid. Supported values: ['1.0', '2.0'].",
                () -> validate(ossfsVolume(ossfs("bucket", "oss.example.com", "3.0", null))));
            assertEquals(1, validate(ossfsVolume(ossfs("bucket", "oss.example.com", "1.0", null))).spec().volumes().size());
        }

        @Test
        void ossfsInlineCredentialsAreRequired() {
            VolumeBackend.Ossfs noSecret = new VolumeBackend.Ossfs("bucket", "oss.example.com", null, null, "AKID", null);
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].ossfs: OSSFS inline credentials are required: accessKeyId and accessKeySecret.",
                () -> validate(ossfsVolume(noSecret)));
            VolumeBackend.Ossfs emptyId = new VolumeBackend.Ossfs("bucket", "oss.example.com", null, null, "", "s");
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].ossfs: OSSFS inline credentials are required: accessKeyId and accessKeySecret.",
                () -> validate(ossfsVolume(emptyId)));
        }

        @Test
        void shapeErrorsAreReportedBeforeTheCrossFieldRules() {
            SandboxSpec spec = SandboxSpec.builder().volume(host("Bad", "/data/opensandbox")).build();
            assertError(MalformedRequestException.class, ErrorCodes.VALIDATION_ERROR,
                "volumes[0].name 'Bad' is invalid: must be at most 63 characters and match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$.",
                () -> new CreateSandboxValidator(ServicePolicy.defaults(), DOCKER)
                    .validate(spec, CreateSandboxValidatorTest.NO_SNAPSHOTS));
        }
    }

    @Nested
    class Semantics {

        @Test
        void duplicateNamesAreRejected() {
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_DUPLICATE_NAME,
                "Duplicate volume name 'data'. Each volume must have a unique name.",
                () -> validate(pvc("data", "a"), pvc("data", "b")));
        }

        @Test
        void absoluteSubPathIsRejected() {
            VolumeSpec v = new VolumeSpec("data", "/mnt", false, "/etc", new VolumeBackend.Pvc("c", true, false, null, null, null));
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_SUB_PATH,
                "SubPath '/etc' must be a relative path, not absolute.", () -> validate(v));
        }

        @ParameterizedTest(name = "subPath ''{0}'' traverses")
        @ValueSource(strings = {"..", "a/../b", "a/..", "..\\etc"})
        void subPathWithADotDotSegmentIsRejected(String subPath) {
            VolumeSpec v = new VolumeSpec("data", "/mnt", false, subPath, new VolumeBackend.Pvc("c", true, false, null, null, null));
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_SUB_PATH,
                "SubPath '" + subPath + "' contains path traversal '..' which is not allowed.", () -> validate(v));
        }

        @ParameterizedTest(name = "subPath ''{0}'' is fine")
        @ValueSource(strings = {"", "a/b", "a/..b", "..cache", "./x"})
        void relativeSubPathsWithoutTraversalAreAccepted(String subPath) {
            VolumeSpec v = new VolumeSpec("data", "/mnt", false, subPath, new VolumeBackend.Pvc("c", true, false, null, null, null));
            assertEquals(subPath, validate(v).spec().volumes().get(0).subPath());
        }

        @ParameterizedTest(name = "host path ''{0}'' traverses")
        @ValueSource(strings = {"/data/opensandbox/../etc", "/..", "C:\\data\\..\\windows", "/data/opensandbox/.."})
        void hostPathWithADotDotComponentIsRejected(String path) {
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_HOST_PATH,
                "Host path '" + path + "' contains path traversal component '..'.", () -> validate(host("data", path)));
        }

        @ParameterizedTest(name = "host path ''{0}'' is not normalized")
        @ValueSource(strings = {"/data//opensandbox", "/data/opensandbox/", "//data", "C:\\data\\\\x", "C:/data/"})
        void hostPathWithRedundantSlashesIsRejected(String path) {
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_HOST_PATH,
                "Host path '" + path + "' is not normalized. Remove redundant slashes.", () -> validate(host("data", path)));
        }

        @ParameterizedTest(name = "host path ''{0}'' is allowed")
        @ValueSource(strings = {"/data/opensandbox", "/data/opensandbox/work", "/data/opensandbox/..cache"})
        void hostPathEqualToOrUnderAnAllowedPrefixIsAccepted(String path) {
            assertEquals(1, validate(host("data", path)).spec().volumes().size());
        }

        @ParameterizedTest(name = "host path ''{0}'' is not allowed")
        @ValueSource(strings = {"/data/opensandbox-evil", "/data", "/", "/etc/passwd"})
        void hostPathOutsideTheAllowListIsRejected(String path) {
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED,
                "Host path '" + path + NOT_ALLOWED_SUFFIX + " Allowed prefixes: ['/data/opensandbox']",
                () -> validate(host("data", path)));
        }

        @Test
        void emptyAllowListDeniesEveryHostPath() {
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED,
                "Host path '/data/opensandbox" + NOT_ALLOWED_SUFFIX + " Allowed prefixes: []",
                () -> validate(List.of(), host("data", "/data/opensandbox")));
        }

        @Test
        void trailingSlashOnAnAllowedPrefixIsIgnored() {
            assertEquals(1, validate(List.of("/data/opensandbox/"), host("data", "/data/opensandbox/x")).spec().volumes().size());
        }

        @Test
        void rootPrefixAllowsEveryNormalizedPath() {
            assertEquals(1, validate(List.of("/"), host("data", "/srv/anything")).spec().volumes().size());
        }

        @Test
        void windowsDriveLettersAndSeparatorsCompareInsensitively() {
            List<String> allowed = List.of("c:\\Data");
            assertEquals(1, validate(allowed, host("data", "C:\\Data\\work")).spec().volumes().size());
            assertEquals(1, validate(allowed, host("data", "C:/Data")).spec().volumes().size());
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED,
                "Host path 'D:\\Data\\work" + NOT_ALLOWED_SUFFIX + " Allowed prefixes: ['c:\\Data']",
                () -> validate(allowed, host("data", "D:\\Data\\work")));
            // Only the drive letter is case-insensitive; directory names are compared exactly.
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_HOST_PATH_NOT_ALLOWED,
                "Host path 'C:\\data\\work" + NOT_ALLOWED_SUFFIX + " Allowed prefixes: ['c:\\Data']",
                () -> validate(allowed, host("data", "C:\\data\\work")));
        }

        @Test
        void ossfsOptionStartingWithADashIsRejected() {
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_OSSFS_OPTION,
                "OSSFS option ' -o allow_other' is invalid: options must be raw option payloads without '-' prefix"
                    + " (e.g. 'allow_other', 'uid=1000').",
                () -> validate(ossfsVolume(ossfs("bucket", "oss.example.com", null, List.of("uid=1000", " -o allow_other")))));
        }

        @Test
        void blankOssfsOptionIsRejected() {
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_OSSFS_OPTION,
                "OSSFS options must be non-empty strings.",
                () -> validate(ossfsVolume(ossfs("bucket", "oss.example.com", null, List.of("  ")))));
        }

        @Test
        void whitespaceOssfsBucketAndEndpointAreRejectedByTheService() {
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_OSSFS_BUCKET,
                "OSSFS bucket cannot be empty.",
                () -> validate(ossfsVolume(ossfs("   ", "oss.example.com", null, null))));
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_OSSFS_ENDPOINT,
                "OSSFS endpoint cannot be empty.",
                () -> validate(ossfsVolume(ossfs("bucket", " ", null, null))));
        }

        @Test
        void validOssfsVolumeIsAccepted() {
            ValidatedSpec v = validate(ossfsVolume(ossfs("bucket", "oss.example.com", "2.0", List.of("allow_other"))));
            assertEquals(List.of("allow_other"), ((VolumeBackend.Ossfs) v.spec().volumes().get(0).backend()).options());
        }

        @Test
        void volumesAreCheckedInOrderSoTheFirstBadVolumeIsReported() {
            VolumeSpec badSub = new VolumeSpec("one", "/mnt/1", false, "/abs", new VolumeBackend.Pvc("c", true, false, null, null, null));
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_SUB_PATH,
                "SubPath '/abs' must be a relative path, not absolute.",
                () -> validate(badSub, host("two", "/etc"), pvc("one", "d")));
        }
    
        @ParameterizedTest(name = "mountPath ''{0}'' is reserved")
        @ValueSource(strings = {"/", "/proc", "/proc/sys", "/sys", "/sys/fs", "/dev", "/dev/", "//proc"})
        void mountPathsTheContainerRuntimeOwnsAreRefusedBeforeAnythingIsCreated(String mountPath) {
            VolumeSpec volume = new VolumeSpec("data", mountPath, true, null, new VolumeBackend.Host("/data/opensandbox/x"));
            assertErrorContaining(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_MOUNT_PATH,
                "mountPath '" + mountPath + "' is reserved", () -> validate(volume));
        }

        @ParameterizedTest(name = "mountPath ''{0}'' is accepted")
        @ValueSource(strings = {"/data", "/dev/shm", "/devices", "/process", "/system/x", "/mnt/a:b"})
        void mountPathsBesideTheReservedOnesAreAccepted(String mountPath) {
            VolumeSpec volume = new VolumeSpec("data", mountPath, true, null, new VolumeBackend.Host("/data/opensandbox/x"));
            assertEquals(mountPath, validate(volume).spec().volumes().get(0).mountPath());
        }

        @Test
        void mountPathWithDotComponentsOrNulIsRefused() {
            assertErrorContaining(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_MOUNT_PATH,
                "contains a '..' component", () -> validate(new VolumeSpec("data", "/tmp/../proc", true, null,
                    new VolumeBackend.Host("/data/opensandbox/x"))));
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_MOUNT_PATH,
                "mountPath '/mnt/\\u0000x' contains a NUL character.", () -> validate(new VolumeSpec("data", "/mnt/\0x",
                    true, null, new VolumeBackend.Host("/data/opensandbox/x"))));
        }

        @Test
        void mountPathsLongerThanAFilesystemTakesAreRefused() {
            assertErrorContaining(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_MOUNT_PATH,
                "component longer than 255 bytes", () -> validate(new VolumeSpec("data", "/" + "m".repeat(256), true,
                    null, new VolumeBackend.Host("/data/opensandbox/x"))));
            assertErrorContaining(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_MOUNT_PATH,
                "longer than 4095 bytes", () -> validate(new VolumeSpec("data", ("/" + "m".repeat(200)).repeat(21), true,
                    null, new VolumeBackend.Host("/data/opensandbox/x"))));
            assertEquals("/" + "m".repeat(255), validate(new VolumeSpec("data", "/" + "m".repeat(255), true, null,
                new VolumeBackend.Host("/data/opensandbox/x"))).spec().volumes().get(0).mountPath());
        }

        @Test
        void twoVolumesAtOneMountPathAreRefused() {
            VolumeSpec first = new VolumeSpec("one", "/mnt/data", true, null, new VolumeBackend.Host("/data/opensandbox/a"));
            VolumeSpec second = new VolumeSpec("two", "/mnt/data/", true, null, new VolumeBackend.Host("/data/opensandbox/b"));
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_MOUNT_PATH,
                "Duplicate mountPath '/mnt/data/': two volumes cannot be mounted at the same place.",
                () -> validate(first, second));
        }

        @Test
        void nulInAHostPathOrSubPathIsRefused() {
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_HOST_PATH,
                "Host path '/data/opensandbox/\\u0000' contains a NUL character.",
                () -> validate(host("data", "/data/opensandbox/\0")));
            assertError(InvalidRequestException.class, ErrorCodes.VOLUME_INVALID_SUB_PATH,
                "SubPath 'a\\u0000' contains a NUL character.",
                () -> validate(new VolumeSpec("data", "/mnt/x", true, "a\0", new VolumeBackend.Host("/data/opensandbox"))));
        }
    }
}
