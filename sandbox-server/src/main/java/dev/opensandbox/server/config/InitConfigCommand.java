package dev.opensandbox.server.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code init-config [PATH] [--example docker|k8s] [--force]}: writes a configuration file and exits.
 *
 * <p>Without {@code --example} it writes a commented skeleton of every section with the real defaults,
 * which loads as written. {@code PATH} defaults to {@code ~/.sandbox.toml}; {@code ~} is expanded and
 * parent directories are created. An existing file is only replaced with {@code --force}.
 */
public final class InitConfigCommand {
    static final String SKELETON = "config-skeleton.toml";
    static final Map<String, String> EXAMPLES = Map.of("docker", "example-docker.toml", "k8s", "example-k8s.toml");
    static final String USAGE = "Usage: opensandbox-server init-config [PATH] [--example docker|k8s] [--force]";

    private final Path home;
    private final PrintStream out;
    private final PrintStream err;

    /**
     * @param env the process environment (for {@code $HOME})
     * @param userHomeProperty the {@code user.home} property, used when {@code $HOME} is unset
     */
    public InitConfigCommand(Map<String, String> env, Path userHomeProperty, PrintStream out, PrintStream err) {
        this.home = ConfigLoader.resolveHome(env, userHomeProperty);
        this.out = out;
        this.err = err;
    }

    /**
     * Runs the command.
     *
     * @param args the arguments after {@code init-config}
     * @return the exit status: 0 written, 1 write failed, 2 bad arguments
     */
    public int run(List<String> args) {
        Optional<String> path = Optional.empty();
        Optional<String> example = Optional.empty();
        boolean force = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--force")) {
                force = true;
            } else if (arg.equals("--example") && i + 1 < args.size()) {
                example = Optional.of(args.get(++i));
            } else if (arg.startsWith("--example=")) {
                example = Optional.of(arg.substring("--example=".length()));
            } else if (!arg.startsWith("-") && path.isEmpty()) {
                path = Optional.of(arg);
            } else {
                err.println("init-config: unexpected argument " + arg);
                err.println(USAGE);
                return 2;
            }
        }
        if (example.isPresent() && !EXAMPLES.containsKey(example.get())) {
            err.println("init-config: --example must be docker or k8s (got " + example.get() + ")");
            err.println(USAGE);
            return 2;
        }
        Path target = path.map(p -> ConfigParser.expandHome(p, home)).orElse(home.resolve(ConfigLoader.DEFAULT_FILE_NAME));
        String resource = example.map(EXAMPLES::get).orElse(SKELETON);
        try {
            if (Files.exists(target) && !force) {
                err.println("Failed to write config template: " + target + " exists (use --force)");
                return 1;
            }
            Path parent = target.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(target, template(resource));
        } catch (IOException | RuntimeException e) {
            err.println("Failed to write config template: " + e.getMessage());
            return 1;
        }
        out.println(example.map(kind -> "Wrote example config (" + kind + ") to " + target)
                .orElse("Wrote full config skeleton to " + target));
        return 0;
    }

    static byte[] template(String resource) throws IOException {
        try (InputStream in = InitConfigCommand.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("template " + resource + " is missing from the server jar");
            }
            return in.readAllBytes();
        }
    }
}
