package dev.opensandbox.it.fuzz;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The {@code docker} command line, for what tests check or clean up on the engine behind the server's back. */
public final class DockerCli {

    private DockerCli() {
    }

    /** One finished command. */
    public record Result(int exit, String out, String err) {
        public Result orFail() {
            if (exit != 0) {
                throw new IllegalStateException("docker failed (" + exit + "): " + err + out);
            }
            return this;
        }
    }

    public static boolean engineAvailable() {
        return run("info", "--format", "{{.ServerVersion}}").exit() == 0;
    }

    /** Runs {@code docker args...}; gives up (and kills the client) after 60 s. */
    public static Result run(String... args) {
        List<String> command = new ArrayList<>();
        command.add("docker");
        command.addAll(Arrays.asList(args));
        try {
            Process process = new ProcessBuilder(command).start();
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return new Result(-1, "", "timed out after 60 s: " + command);
            }
            return new Result(process.exitValue(), new String(out.join(), StandardCharsets.UTF_8),
                new String(err.join(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, "", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "", e.toString());
        }
    }

    private static byte[] readAll(java.io.InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    /** Force-removes the containers with these ids or names; missing ones are fine. */
    public static void removeContainers(List<String> containers) {
        if (!containers.isEmpty()) {
            List<String> rm = new ArrayList<>(List.of("rm", "-f", "-v"));
            rm.addAll(containers);
            run(rm.toArray(String[]::new));
        }
    }

    /** The ids of containers (running or not) with {@code label=value}. */
    public static List<String> containersLabelled(String label, String value) {
        String out = run("ps", "-aq", "--no-trunc", "--filter", "label=" + label + "=" + value).out().trim();
        return out.isEmpty() ? List.of() : List.of(out.split("\\s+"));
    }
}
