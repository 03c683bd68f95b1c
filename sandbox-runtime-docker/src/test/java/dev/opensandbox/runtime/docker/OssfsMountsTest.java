package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.RuntimeFailureException;
import dev.opensandbox.core.VolumeBackend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ossfs mount manager against stand-in tools (shell scripts that record how they were called
 * and what the credentials file held): reference counting, the command lines of both versions,
 * the 0600 credentials file deleted afterwards, and unmounting at the last release.
 */
class OssfsMountsTest {

    @TempDir
    Path dir;
    private Path tools;
    private Path log;
    private OssfsMounts mounts;

    private void tool(String name, String body) throws IOException {
        Path script = tools.resolve(name);
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @BeforeEach
    void standInTools() throws IOException {
        tools = Files.createDirectories(dir.resolve("bin"));
        log = dir.resolve("calls.log");
        // Records argv, then the credentials file's mode and content (the file the -c / passwd_file names).
        String record = "echo \"$(basename \"$0\") $*\" >> " + log + "\n"
            + "for a in \"$@\"; do case \"$a\" in passwd_file=*) f=${a#passwd_file=} ;; esac; done\n"
            + "[ \"$1\" = mount ] && f=$4\n"
            + "[ -n \"$f\" ] && { stat -c 'mode %a' \"$f\" >> " + log + "; cat \"$f\" >> " + log + "; echo >> " + log + "; }\n";
        tool("ossfs", record);
        tool("ossfs2", record);
        tool("fusermount", "echo \"fusermount $*\" >> " + log);
        mounts = new OssfsMounts(dir.resolve("mnt").toString(), List.of(tools));
    }

    private static VolumeBackend.Ossfs bucket(String version) {
        return new VolumeBackend.Ossfs("data-bucket", "oss-cn-hangzhou.aliyuncs.com", version, List.of("allow_other"),
            "AKID", "AKSECRET");
    }

    private String calls() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Test
    void version2MountsOnceWithAConfFileAndUnmountsAtTheLastRelease() throws IOException {
        String path = mounts.mountPath(bucket("2.0"), "train/");
        assertEquals(dir.resolve("mnt/data-bucket/train").toString(), path);

        mounts.acquire(path, bucket("2.0"), "train/");
        mounts.acquire(path, bucket("2.0"), "train/");
        assertEquals(2, mounts.references(path));
        String calls = calls();
        assertEquals(1, calls.lines().filter(l -> l.startsWith("ossfs2 mount")).count(), calls);
        assertTrue(calls.contains("ossfs2 mount " + path + " -c "), calls);
        assertTrue(calls.contains("mode 600"), "credentials readable by the server only: " + calls);
        assertTrue(calls.contains("--oss_endpoint=https://oss-cn-hangzhou.aliyuncs.com\n--oss_bucket=data-bucket\n"
            + "--oss_access_key_id=AKID\n--oss_access_key_secret=AKSECRET\n--oss_bucket_prefix=train/\n--allow_other"), calls);
        try (var leftovers = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertFalse(leftovers.anyMatch(p -> p.getFileName().toString().startsWith("opensandbox-ossfs-")
                && calls.contains(p.toString())), "the credentials file is deleted");
        }

        mounts.release(path);
        assertFalse(calls().contains("fusermount"), "still used by one sandbox");
        mounts.release(path);
        assertTrue(calls().contains("fusermount -u " + path));
        assertEquals(0, mounts.references(path));
        mounts.release(path); // untracked: nothing happens
        assertEquals(1, calls().lines().filter(l -> l.startsWith("fusermount")).count());
    }

    @Test
    void version1PassesThePrefixAndAPasswdFile() throws IOException {
        String path = mounts.mountPath(bucket("1.0"), null);
        mounts.acquire(path, bucket("1.0"), null);
        String calls = calls();
        assertTrue(calls.contains("ossfs data-bucket " + path + " -o url=https://oss-cn-hangzhou.aliyuncs.com -o passwd_file="),
            calls);
        assertTrue(calls.contains(" -o allow_other"), calls);
        assertTrue(calls.contains("data-bucket:AKID:AKSECRET"), calls);
    }

    @Test
    void subPathsMayNotLeaveTheBucketAndRootsMustBeAbsolute() {
        assertThrows(InvalidRequestException.class, () -> mounts.mountPath(bucket("2.0"), "../other"));
        OssfsMounts relative = new OssfsMounts("mnt/ossfs", List.of(tools));
        RuntimeFailureException e = assertThrows(RuntimeFailureException.class,
            () -> relative.mountPath(bucket("2.0"), null));
        assertEquals(OssfsMounts.INVALID_MOUNT_ROOT, e.code());
    }

    @Test
    void aFailingMountIsAnErrorAndTakesNoReference() throws IOException {
        tool("ossfs2", "echo 'bucket not found' >&2; exit 3");
        String path = mounts.mountPath(bucket("2.0"), null);
        RuntimeFailureException e = assertThrows(RuntimeFailureException.class, () -> mounts.acquire(path, bucket("2.0"), null));
        assertEquals(OssfsMounts.MOUNT_FAILED, e.code());
        assertTrue(e.getMessage().contains("exit 3") && e.getMessage().contains("bucket not found"), e.getMessage());
        assertFalse(e.getMessage().contains("AKSECRET"));
        assertEquals(0, mounts.references(path));
    }

    @Test
    void aMissingToolIsAClearRefusal() {
        OssfsMounts none = new OssfsMounts(dir.resolve("mnt").toString(), List.of(dir.resolve("empty")));
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
            () -> none.acquire(none.mountPath(bucket("1.0"), null), bucket("1.0"), null));
        assertEquals(DockerVolumes.VOLUME_OSSFS_UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("'ossfs'"), e.getMessage());
    }

    @Test
    void countsAreRebuiltFromLabels() {
        mounts.adopt(List.of("/mnt/ossfs/a", "/mnt/ossfs/a", "/mnt/ossfs/b"));
        assertEquals(2, mounts.references("/mnt/ossfs/a"));
        assertEquals(1, mounts.references("/mnt/ossfs/b"));
    }
}
