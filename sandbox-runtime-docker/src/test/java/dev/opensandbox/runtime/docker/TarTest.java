package dev.opensandbox.runtime.docker;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TarTest {

    private static final Instant MODIFIED = Instant.parse("2026-06-12T15:00:00Z");

    @Test
    void writtenArchiveReadsBackDirectoriesFirstThenTheFile() throws IOException {
        byte[] content = new byte[1000];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) i;
        }
        InputStream tar = Tar.singleFile(List.of("a", "a/b"), "a/b/file.bin", new ByteArrayInputStream(content),
            content.length, 0640, MODIFIED);

        Tar.Entry dirA = Tar.readEntry(tar);
        Tar.Entry dirB = Tar.readEntry(tar);
        Tar.Entry file = Tar.readEntry(tar);

        assertEquals("a/", dirA.name());
        assertTrue(dirB.directory());
        assertEquals("a/b/file.bin", file.name());
        assertEquals(0640, file.mode());
        assertEquals(MODIFIED, file.modified());
        assertArrayEquals(content, tar.readNBytes((int) file.size()));
        byte[] rest = tar.readAllBytes();
        assertEquals(0, (1000 + rest.length) % Tar.BLOCK, "padded to whole blocks");
    }

    @Test
    void longNamesTravelInAPaxHeader() throws IOException {
        String name = "d/" + "x".repeat(150) + ".txt";
        InputStream tar = Tar.singleFile(List.of("d"), name, new ByteArrayInputStream(new byte[] {1}), 1, 0644, MODIFIED);

        Tar.readEntry(tar);
        assertEquals(name, Tar.readEntry(tar).name());
    }

    @Test
    void contentShorterThanDeclaredFails() {
        InputStream tar = Tar.singleFile(List.of(), "f", new ByteArrayInputStream(new byte[3]), 10, 0644, MODIFIED);

        org.junit.jupiter.api.Assertions.assertThrows(IOException.class, tar::readAllBytes);
    }
}
