package dev.opensandbox.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InitConfigCommandTest {
    @TempDir
    Path home;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return new InitConfigCommand(Map.of(), home, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(List.of(args));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8).strip();
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8).strip();
    }

    private LoadedConfig loadWithoutWarnings(Path file) {
        LoadedConfig loaded = new ConfigLoader(Map.of(), home).loadFile(file);
        assertEquals(List.of(), loaded.warnings());
        return loaded;
    }

    @Test
    void skeletonGoesToHomeSandboxTomlAndLoadsToExactlyTheEmbeddedDefaults() {
        assertEquals(0, run());

        Path file = home.resolve(".sandbox.toml");
        assertEquals("Wrote full config skeleton to " + file, out());
        ServerConfig skeleton = loadWithoutWarnings(file).config();
        ServerConfig defaults = new ConfigLoader(Map.of(), home).embeddedDefaults().config();
        assertEquals(defaults.server(), skeleton.server());
        assertEquals(defaults.log(), skeleton.log());
        assertEquals(defaults.runtime(), skeleton.runtime());
        assertEquals(defaults.docker(), skeleton.docker());
        assertEquals(defaults.ingress(), skeleton.ingress());
        assertEquals(defaults.egress(), skeleton.egress());
        assertEquals(defaults.storage(), skeleton.storage());
        assertEquals(defaults.store(), skeleton.store());
        assertEquals(defaults.secureRuntime(), skeleton.secureRuntime());
        assertEquals(defaults.renewIntent(), skeleton.renewIntent());
        assertEquals(defaults.execd(), skeleton.execd());
        assertEquals(defaults.deployment(), skeleton.deployment());
    }

    @Test
    void skeletonMentionsEverySection() throws IOException {
        assertEquals(0, run());
        String text = Files.readString(home.resolve(".sandbox.toml"));
        for (String section : ConfigParser.SECTIONS) {
            assertTrue(text.contains("[" + section + "]"), section);
        }
    }

    @Test
    void dockerExampleLoads() {
        Path file = home.resolve("etc/opensandbox/docker.toml");
        assertEquals(0, run(file.toString(), "--example", "docker"));

        assertEquals("Wrote example config (docker) to " + file, out());
        ServerConfig c = loadWithoutWarnings(file).config();
        assertEquals("docker", c.runtime().type());
        assertEquals("bridge", c.docker().networkMode());
    }

    @Test
    void kubernetesExampleLoads() {
        Path file = home.resolve("k8s.toml");
        assertEquals(0, run("--example=k8s", file.toString()));

        assertEquals("Wrote example config (k8s) to " + file, out());
        ServerConfig c = loadWithoutWarnings(file).config();
        assertEquals("kubernetes", c.runtime().type());
        assertEquals(Optional.of("opensandbox"), c.kubernetes().orElseThrow().namespace());
    }

    @Test
    void tildePathIsExpandedAndParentsCreated() {
        assertEquals(0, run("~/a/b/c.toml"));
        assertTrue(Files.isRegularFile(home.resolve("a/b/c.toml")));
    }

    @Test
    void existingFileIsKeptWithoutForce() throws IOException {
        Path file = home.resolve("c.toml");
        Files.writeString(file, "keep me");

        assertEquals(1, run(file.toString()));

        assertEquals("Failed to write config template: " + file + " exists (use --force)", err());
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void forceOverwritesAnExistingFile() throws IOException {
        Path file = home.resolve("c.toml");
        Files.writeString(file, "old");

        assertEquals(0, run(file.toString(), "--force", "--example", "docker"));

        assertTrue(Files.readString(file).contains("type = \"docker\""));
    }

    @Test
    void unknownExampleOrArgumentIsAUsageError() {
        assertEquals(2, run("--example", "docker-zh"));
        assertTrue(err().contains("--example must be docker or k8s"));
        assertEquals(2, run("--bogus"));
        assertTrue(Files.notExists(home.resolve(".sandbox.toml")));
    }
}
