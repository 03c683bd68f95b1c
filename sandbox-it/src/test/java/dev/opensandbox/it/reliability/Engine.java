package dev.opensandbox.it.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The Docker engine as the {@code docker} CLI sees it, independent of the code under test. Every
 * query and every removal is scoped to what a test created: a label value of its own, the sandbox
 * ids it learned, or a volume name prefix of its own. Never the engine's whole content.
 */
public final class Engine {

    /** Label of the sandbox id on sandbox containers (upstream's key). */
    public static final String ID_LABEL = "opensandbox.io/id";
    /** Label of the owning sandbox on egress sidecars. */
    public static final String SIDECAR_LABEL = "opensandbox.io/egress-sidecar-for";

    private Engine() {
    }

    /** What a {@code docker} command printed. */
    public record Cli(int exit, String out, String err) {
    }

    public static Cli docker(String... args) {
        List<String> command = new ArrayList<>();
        command.add("docker");
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(false).start();
            process.getOutputStream().close();
            byte[] out = process.getInputStream().readAllBytes();
            byte[] err = process.getErrorStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return new Cli(-1, "", "timed out: " + command);
            }
            return new Cli(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Cli(-1, "", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Cli(-1, "", e.toString());
        }
    }

    public static boolean available() {
        return docker("info", "--format", "{{.ServerVersion}}").exit() == 0;
    }

    /**
     * Sandbox containers (any state) carrying the label {@code key=value}: sandbox id to container
     * state ({@code created}, {@code running}, {@code paused}, {@code exited}, ...).
     */
    public static Map<String, String> sandboxContainers(String key, String value) {
        Cli ps = docker("ps", "-a", "--filter", "label=" + key + "=" + value,
            "--format", "{{.Label \"" + ID_LABEL + "\"}} {{.State}}");
        requireOk(ps);
        Map<String, String> states = new LinkedHashMap<>();
        ps.out().lines().filter(line -> !line.isBlank()).forEach(line -> {
            String[] parts = line.trim().split(" ", 2);
            states.put(parts[0], parts.length > 1 ? parts[1] : "");
        });
        return states;
    }

    /** Container names of the egress sidecars of these sandboxes. */
    public static Set<String> sidecarsOf(Collection<String> sandboxIds) {
        Set<String> names = new TreeSet<>();
        if (sandboxIds.isEmpty()) {
            return names;
        }
        Cli ps = docker("ps", "-a", "--filter", "label=" + SIDECAR_LABEL,
            "--format", "{{.Names}} {{.Label \"" + SIDECAR_LABEL + "\"}}");
        requireOk(ps);
        ps.out().lines().filter(line -> !line.isBlank()).forEach(line -> {
            String[] parts = line.trim().split(" ", 2);
            if (parts.length == 2 && sandboxIds.contains(parts[1])) {
                names.add(parts[0]);
            }
        });
        return names;
    }

    /** Volumes whose name starts with {@code prefix}. */
    public static Set<String> volumes(String prefix) {
        Cli ls = docker("volume", "ls", "-q", "--filter", "name=" + prefix);
        requireOk(ls);
        Set<String> names = new TreeSet<>();
        ls.out().lines().map(String::trim).filter(name -> name.startsWith(prefix)).forEach(names::add);
        return names;
    }

    /** Force-removes the containers labelled {@code key=value}, the sidecars of these sandboxes and the volumes of this prefix. */
    public static void removeAll(String key, String value, Collection<String> sandboxIds, String volumePrefix) {
        Set<String> targets = new TreeSet<>();
        Cli ps = docker("ps", "-aq", "--filter", "label=" + key + "=" + value);
        ps.out().lines().map(String::trim).filter(s -> !s.isEmpty()).forEach(targets::add);
        for (String id : sandboxIds) {
            docker("ps", "-aq", "--filter", "label=" + ID_LABEL + "=" + id).out().lines().map(String::trim)
                .filter(s -> !s.isEmpty()).forEach(targets::add);
        }
        targets.addAll(sidecarsOf(sandboxIds));
        if (!targets.isEmpty()) {
            List<String> rm = new ArrayList<>(List.of("rm", "-f", "-v"));
            rm.addAll(targets);
            docker(rm.toArray(String[]::new));
        }
        if (volumePrefix != null) {
            Set<String> left = volumes(volumePrefix);
            if (!left.isEmpty()) {
                List<String> rm = new ArrayList<>(List.of("volume", "rm", "-f"));
                rm.addAll(left);
                docker(rm.toArray(String[]::new));
            }
        }
    }

    private static void requireOk(Cli cli) {
        if (cli.exit() != 0) {
            throw new IllegalStateException("docker failed (" + cli.exit() + "): " + cli.err());
        }
    }
}
