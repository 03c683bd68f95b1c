package dev.opensandbox.core.memory;

import dev.opensandbox.core.InvalidRequestException;
import dev.opensandbox.core.NotFoundException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.FileInfo;
import dev.opensandbox.core.testing.MutableClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static dev.opensandbox.core.memory.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InMemoryFilesTest {

    private final MutableClock clock = new MutableClock();
    private final InMemorySandboxRuntime runtime = new InMemorySandboxRuntime(clock);
    private final SandboxId id = SandboxId.random();

    @BeforeEach
    void createSandbox() {
        runtime.create(request(id, clock.instant(), "sleep", "3600"));
    }

    private void write(String path, byte[] content, int mode) {
        runtime.writeFile(id, path, new ByteArrayInputStream(content), content.length, mode);
    }

    private byte[] read(String path) throws IOException {
        try (InputStream in = runtime.readFile(id, path)) {
            return in.readAllBytes();
        }
    }

    @Test
    void everyByteValueSurvivesARoundTrip() throws IOException {
        byte[] awkward = new byte[512];
        for (int i = 0; i < awkward.length; i++) {
            awkward[i] = (byte) (255 - i % 256); // NULs, invalid UTF-8, CR/LF, high bytes
        }

        write("/data/blob.bin", awkward, 0600);

        assertArrayEquals(awkward, read("/data/blob.bin"));
    }

    @Test
    void writeCopiesTheContentSoLaterChangesToTheCallersArrayDoNotLeak() throws IOException {
        byte[] content = "abc".getBytes(StandardCharsets.UTF_8);
        write("/tmp/c", content, 0644);
        content[0] = 'X';

        byte[] first = read("/tmp/c");
        first[1] = 'Y';

        assertEquals("abc", new String(read("/tmp/c"), StandardCharsets.UTF_8));
    }

    @Test
    void statReportsSizeModeAndTheClockTimeOfTheWrite() {
        Instant writtenAt = clock.advance(Duration.ofMinutes(3));
        write("/opt/app/run.sh", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8), 0755);
        clock.advance(Duration.ofMinutes(1));

        assertEquals(Optional.of(new FileInfo("/opt/app/run.sh", 10, 0755, false, writtenAt)),
            runtime.statFile(id, "/opt/app/run.sh"));
    }

    @Test
    void writingCreatesParentDirectoriesThatStatAndLsSee() {
        write("/a/b/c.txt", new byte[] {1}, 0644);

        FileInfo dir = runtime.statFile(id, "/a/b").orElseThrow();
        assertTrue(dir.directory());
        assertEquals(0755, dir.mode());
        assertEquals("b\n", Fixtures.sh(runtime, id, "ls /a").stdout());
        assertEquals("c.txt\n", Fixtures.sh(runtime, id, "ls /a/b").stdout());
    }

    @Test
    void statOfAMissingPathIsEmpty() {
        assertEquals(Optional.empty(), runtime.statFile(id, "/nothing/here"));
    }

    @Test
    void readingAMissingFileIsNotFoundAndNamesThePath() {
        NotFoundException e = assertThrows(NotFoundException.class, () -> runtime.readFile(id, "/etc/missing.conf"));

        assertEquals("DOCKER::FILE_NOT_FOUND", e.code());
        assertTrue(e.getMessage().contains("/etc/missing.conf"), e.getMessage());
    }

    @Test
    void pathsMustBeAbsoluteAndAreNormalized() throws IOException {
        assertEquals("DOCKER::INVALID_FILE_PATH",
            assertThrows(InvalidRequestException.class, () -> write("relative.txt", new byte[0], 0644)).code());

        write("/tmp/../srv//x/./y", "y".getBytes(StandardCharsets.UTF_8), 0644);
        assertArrayEquals("y".getBytes(StandardCharsets.UTF_8), read("/srv/x/y"));
    }

    @Test
    void aDirectoryCannotBeOverwrittenOrRead() {
        write("/d/f", new byte[0], 0644);

        assertEquals("DOCKER::INVALID_FILE_PATH",
            assertThrows(InvalidRequestException.class, () -> write("/d", new byte[0], 0644)).code());
        assertEquals("DOCKER::INVALID_FILE_PATH",
            assertThrows(InvalidRequestException.class, () -> write("/d/f/g", new byte[0], 0644)).code());
        assertThrows(InvalidRequestException.class, () -> runtime.readFile(id, "/d"));
    }

    @Test
    void execAndTheFileApiShareOneFilesystem() throws IOException {
        write("/work/in.txt", "from api".getBytes(StandardCharsets.UTF_8), 0644);

        Fixtures.Result result = Fixtures.sh(runtime, id, "cat /work/in.txt; echo from exec > /work/out.txt");

        assertEquals("from api", result.stdout());
        assertEquals("from exec\n", new String(read("/work/out.txt"), StandardCharsets.UTF_8));
    }

    @Test
    void filesOfSeparateSandboxesAreIsolated() {
        SandboxId other = SandboxId.random();
        runtime.create(request(other, clock.instant(), "sleep", "3600"));

        write("/tmp/mine", new byte[] {1}, 0644);

        assertEquals(Optional.empty(), runtime.statFile(other, "/tmp/mine"));
    }

    @Test
    void fileVerbsOnAnUnknownSandboxAreSandboxNotFound() {
        SandboxId unknown = SandboxId.random();

        assertEquals("DOCKER::SANDBOX_NOT_FOUND",
            assertThrows(NotFoundException.class, () -> runtime.readFile(unknown, "/tmp/x")).code());
        assertEquals("DOCKER::SANDBOX_NOT_FOUND", assertThrows(NotFoundException.class,
            () -> runtime.writeFile(unknown, "/tmp/x", new ByteArrayInputStream(new byte[0]), 0, 0644)).code());
    }
}
