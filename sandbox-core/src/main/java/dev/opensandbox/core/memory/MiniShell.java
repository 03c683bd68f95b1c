package dev.opensandbox.core.memory;

import dev.opensandbox.core.memory.MemoryFileSystem.FsException;
import dev.opensandbox.core.memory.ShellParser.Command;
import dev.opensandbox.core.memory.ShellParser.Connector;
import dev.opensandbox.core.memory.ShellParser.Dup;
import dev.opensandbox.core.memory.ShellParser.Part;
import dev.opensandbox.core.memory.ShellParser.Step;
import dev.opensandbox.core.memory.ShellParser.SyntaxException;
import dev.opensandbox.core.memory.ShellParser.Text;
import dev.opensandbox.core.memory.ShellParser.ToFile;
import dev.opensandbox.core.memory.ShellParser.Var;
import dev.opensandbox.core.memory.ShellParser.Word;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny interpreter for what tests and demos run in a sandbox: an argv, or a script given to
 * {@code sh -c} (syntax in {@link ShellParser}), over the sandbox's {@link MemoryFileSystem}.
 *
 * <p>Commands: {@code echo [-n]}, {@code printf} ({@code %s %d %%}, {@code \n \t \\}),
 * {@code cat}, {@code true}, {@code false}, {@code exit}, {@code sleep}, {@code pwd}, {@code cd},
 * {@code env}, {@code printenv}, {@code export}, {@code ls}, {@code mkdir [-p]},
 * {@code rm [-rf]}, {@code touch}, {@code exec}, {@code set -e}, and {@code sh}/{@code bash}
 * ({@code -c SCRIPT}, a script file, or nothing to read the empty stdin). {@code NAME=value}
 * assignments work alone and as command prefixes. A path prefix ({@code /bin/echo}) is ignored.
 *
 * <p>Nothing takes real time: the runtime has no processes to wait for, and tests must not depend
 * on wall-clock time. So in {@link Mode#EXEC} {@code sleep} returns at once. In
 * {@link Mode#ENTRYPOINT} a command that would keep a real container alive ({@code sleep} with a
 * positive time, or any program this shell does not know, such as {@code tail -f /dev/null} or a
 * server) stops the interpretation and the sandbox stays running; in EXEC an unknown program fails
 * with 127, as in a shell.
 */
final class MiniShell {

    enum Mode { ENTRYPOINT, EXEC }

    /** Where output goes. */
    @FunctionalInterface
    interface Sink {
        void write(byte[] bytes);
    }

    /**
     * How an interpretation ended.
     *
     * @param finished whether the command exited; false when it would still be running
     * @param exitCode its exit status, 0..255; meaningless when not finished
     */
    record Outcome(boolean finished, int exitCode) {
        static final Outcome STILL_RUNNING = new Outcome(false, 0);
    }

    private static final Sink DISCARD = bytes -> { };

    private final MemoryFileSystem fs;
    private final Map<String, String> env;
    private final Mode mode;
    private final Clock clock;
    private String cwd;
    private int status;
    private boolean errexit;

    MiniShell(MemoryFileSystem fs, Map<String, String> env, String cwd, Mode mode, Clock clock) {
        this.fs = fs;
        this.env = new LinkedHashMap<>(env);
        this.cwd = cwd;
        this.mode = mode;
        this.clock = clock;
    }

    /**
     * Runs an argv as a container runtime would: literally, without a shell, unless it names one.
     * A single element with spaces is run as a script (upstream shell-splits it; they differ only
     * for {@code $} and operators).
     */
    Outcome run(List<String> argv, Sink out, Sink err) {
        Io io = new Io(out, err);
        try {
            if (argv.size() == 1 && argv.get(0).strip().contains(" ")) {
                return new Outcome(true, script(argv.get(0), io));
            }
            return new Outcome(true, command(argv, io, Map.of()));
        } catch (Exit exit) {
            return new Outcome(true, exit.code);
        } catch (StillRunning running) {
            return Outcome.STILL_RUNNING;
        }
    }

    private int script(String text, Io io) {
        List<Step> steps;
        try {
            steps = ShellParser.parse(text);
        } catch (SyntaxException e) {
            io.err("sh: syntax error: " + e.getMessage() + "\n");
            return 2;
        }
        for (int i = 0; i < steps.size(); i++) {
            Step step = steps.get(i);
            if (step.connector() == Connector.IF_SUCCESS && status != 0
                || step.connector() == Connector.IF_FAILURE && status == 0) {
                continue;
            }
            status = execute(step.command(), io);
            boolean lastOfList = i + 1 == steps.size() || steps.get(i + 1).connector() == Connector.ALWAYS;
            if (errexit && status != 0 && lastOfList) {
                throw new Exit(status);
            }
        }
        return status;
    }

    private int execute(Command command, Io io) {
        Map<String, String> assignments = new LinkedHashMap<>();
        List<Word> words = command.words();
        int first = 0;
        for (; first < words.size() && isAssignment(words.get(first)); first++) {
            String assignment = String.join("", expand(words.get(first), false));
            int eq = assignment.indexOf('=');
            assignments.put(assignment.substring(0, eq), assignment.substring(eq + 1));
        }
        List<String> args = new ArrayList<>();
        for (Word word : words.subList(first, words.size())) {
            args.addAll(expand(word, true));
        }
        Io redirected;
        try {
            redirected = redirect(command, io);
        } catch (FsException | IllegalArgumentException e) {
            return 2;
        }
        if (args.isEmpty()) {
            env.putAll(assignments);
            return 0;
        }
        return command(args, redirected, assignments);
    }

    private static boolean isAssignment(Word word) {
        return !word.parts().isEmpty()
            && word.parts().get(0) instanceof Text text && !text.quoted()
            && text.text().matches("[A-Za-z_][A-Za-z0-9_]*=.*");
    }

    /** Expands a word into fields; unquoted variables are split on blanks as sh does. */
    private List<String> expand(Word word, boolean split) {
        List<String> fields = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean open = false;
        for (Part part : word.parts()) {
            if (part instanceof Text text) {
                current.append(text.text());
                open = true;
            } else if (part instanceof Var var && (var.quoted() || !split)) {
                current.append(lookup(var.name()));
                open = true;
            } else if (part instanceof Var var) {
                String[] pieces = lookup(var.name()).split("[ \t\n]+", -1);
                for (int i = 0; i < pieces.length; i++) {
                    if (i > 0 && open) {
                        fields.add(current.toString());
                        current.setLength(0);
                        open = false;
                    }
                    if (!pieces[i].isEmpty()) {
                        current.append(pieces[i]);
                        open = true;
                    }
                }
            }
        }
        if (open) {
            fields.add(current.toString());
        }
        return fields;
    }

    private String lookup(String name) {
        if (name.equals("?")) {
            return Integer.toString(status);
        }
        if (name.equals("0")) {
            return "sh";
        }
        return env.getOrDefault(name, "");
    }

    private Io redirect(Command command, Io io) {
        Sink[] fds = {null, io.out, io.err};
        for (var redirect : command.redirects()) {
            if (redirect instanceof Dup dup) {
                fds[dup.fd()] = fds[dup.toFd()];
            } else if (redirect instanceof ToFile file) {
                List<String> target = expand(file.target(), true);
                if (target.size() != 1) {
                    io.err("sh: ambiguous redirect\n");
                    throw new IllegalArgumentException("ambiguous redirect");
                }
                fds[file.fd()] = open(target.get(0), file.append(), io);
            }
        }
        return new Io(fds[1], fds[2]);
    }

    private Sink open(String name, boolean append, Io io) {
        switch (name) {
            case "/dev/null":
                return DISCARD;
            case "/dev/stdout":
                return io.out;
            case "/dev/stderr":
                return io.err;
            default:
                break;
        }
        String path = MemoryFileSystem.normalize(name, cwd);
        try {
            // Truncate on open, before the command runs, as a real shell does.
            if (append) {
                fs.append(path, new byte[0], clock.instant());
            } else {
                fs.write(path, new byte[0], MemoryFileSystem.DEFAULT_FILE_MODE, clock.instant(), false);
            }
        } catch (FsException e) {
            io.err("sh: cannot create " + name + ": " + e.getMessage() + "\n");
            throw e;
        }
        return bytes -> fs.append(path, bytes, clock.instant());
    }

    private int command(List<String> args, Io io, Map<String, String> local) {
        String name = args.get(0);
        String program = name.substring(name.lastIndexOf('/') + 1);
        switch (program) {
            case "sh": case "bash": case "dash": case "ash":
                return sh(args, io, local);
            case "echo":
                return echo(args, io);
            case "printf":
                return printf(args, io);
            case "cat":
                return cat(args, io);
            case "true":
                return 0;
            case "false":
                return 1;
            case "exit":
                throw new Exit(args.size() > 1 ? exitCode(args.get(1), io) : status);
            case "sleep":
                return sleep(args, io);
            case "pwd":
                io.out(cwd + "\n");
                return 0;
            case "cd":
                return cd(args, io);
            case "env":
                return envCommand(args, io, local);
            case "printenv":
                return printenv(args, io, local);
            case "export":
                args.subList(1, args.size()).stream().filter(a -> a.contains("="))
                    .forEach(a -> env.put(a.substring(0, a.indexOf('=')), a.substring(a.indexOf('=') + 1)));
                return 0;
            case "set":
                for (String option : args.subList(1, args.size())) {
                    if (option.matches("[-+][a-z]*e[a-z]*")) {
                        errexit = option.startsWith("-");
                    }
                }
                return 0;
            case "exec":
                throw new Exit(args.size() > 1 ? command(args.subList(1, args.size()), io, local) : 0);
            case "ls":
                return ls(args, io);
            case "mkdir": case "rm": case "touch":
                return fileCommand(program, args, io);
            default:
                if (mode == Mode.ENTRYPOINT) {
                    throw new StillRunning();
                }
                io.err("sh: " + name + ": not found\n");
                return 127;
        }
    }

    private int sh(List<String> args, Io io, Map<String, String> local) {
        boolean command = false;
        boolean exitOnError = false;
        int i = 1;
        for (; i < args.size() && args.get(i).startsWith("-") && args.get(i).length() > 1; i++) {
            boolean shortFlags = !args.get(i).startsWith("--"); // --login and friends carry no c or e
            command |= shortFlags && args.get(i).contains("c");
            exitOnError |= shortFlags && args.get(i).contains("e");
        }
        String text;
        if (command) {
            if (i >= args.size()) {
                io.err("sh: -c requires an argument\n");
                return 2;
            }
            text = args.get(i);
        } else if (i < args.size()) {
            try {
                text = new String(fs.read(MemoryFileSystem.normalize(args.get(i), cwd)), StandardCharsets.UTF_8);
            } catch (FsException e) {
                io.err("sh: cannot open " + args.get(i) + ": " + e.getMessage() + "\n");
                return 2;
            }
        } else {
            return 0; // no script and stdin is empty, as in a container started without -i
        }
        Map<String, String> childEnv = new LinkedHashMap<>(env);
        childEnv.putAll(local);
        MiniShell child = new MiniShell(fs, childEnv, cwd, mode, clock);
        child.errexit = exitOnError;
        try {
            return child.script(text, io);
        } catch (Exit exit) {
            return exit.code;
        }
    }

    private static int echo(List<String> args, Io io) {
        int i = 1;
        boolean newline = true;
        for (; i < args.size() && args.get(i).equals("-n"); i++) {
            newline = false;
        }
        io.out(String.join(" ", args.subList(i, args.size())) + (newline ? "\n" : ""));
        return 0;
    }

    private static int printf(List<String> args, Io io) {
        if (args.size() < 2) {
            io.err("printf: missing operand\n");
            return 1;
        }
        String format = args.get(1);
        List<String> values = args.subList(2, args.size());
        StringBuilder out = new StringBuilder();
        int next = 0;
        // The format is reused while arguments remain, as printf(1) does.
        do {
            int used = 0;
            for (int i = 0; i < format.length(); i++) {
                char c = format.charAt(i);
                if (c == '\\' && i + 1 < format.length()) {
                    char e = format.charAt(++i);
                    out.append(e == 'n' ? "\n" : e == 't' ? "\t" : e == '\\' ? "\\" : "\\" + e);
                } else if (c == '%' && i + 1 < format.length()) {
                    char f = format.charAt(++i);
                    if (f == '%') {
                        out.append('%');
                    } else {
                        out.append(next + used < values.size() ? values.get(next + used) : (f == 'd' ? "0" : ""));
                        used++;
                    }
                } else {
                    out.append(c);
                }
            }
            next += used;
            if (used == 0) {
                break;
            }
        } while (next < values.size());
        io.out(out.toString());
        return 0;
    }

    private int cat(List<String> args, Io io) {
        int result = 0;
        for (String name : args.subList(1, args.size())) {
            if (name.equals("-") || name.equals("/dev/null")) {
                continue; // stdin is empty
            }
            try {
                io.out.write(fs.read(MemoryFileSystem.normalize(name, cwd)));
            } catch (FsException e) {
                io.err("cat: " + name + ": " + e.getMessage() + "\n");
                result = 1;
            }
        }
        return result;
    }

    private int exitCode(String text, Io io) {
        try {
            return Integer.parseInt(text) & 0xff;
        } catch (NumberFormatException e) {
            io.err("sh: exit: Illegal number: " + text + "\n");
            return 2;
        }
    }

    private int sleep(List<String> args, Io io) {
        if (args.size() < 2) {
            io.err("sleep: missing operand\n");
            return 1;
        }
        boolean positive = false;
        for (String interval : args.subList(1, args.size())) {
            if (!interval.matches("infinity|[0-9]+(\\.[0-9]+)?[smhd]?")) {
                io.err("sleep: invalid time interval '" + interval + "'\n");
                return 1;
            }
            positive |= !interval.matches("0+(\\.0+)?[smhd]?");
        }
        if (positive && mode == Mode.ENTRYPOINT) {
            throw new StillRunning();
        }
        return 0;
    }

    private int cd(List<String> args, Io io) {
        String target = args.size() > 1 ? args.get(1) : env.getOrDefault("HOME", "/");
        String path = MemoryFileSystem.normalize(target, cwd);
        if (!fs.isDirectory(path)) {
            io.err("sh: cd: can't cd to " + target + "\n");
            return 2;
        }
        cwd = path;
        env.put("PWD", path);
        return 0;
    }

    private int envCommand(List<String> args, Io io, Map<String, String> local) {
        Map<String, String> extra = new LinkedHashMap<>(local);
        int i = 1;
        for (; i < args.size() && args.get(i).matches("[A-Za-z_][A-Za-z0-9_]*=.*"); i++) {
            String assignment = args.get(i);
            extra.put(assignment.substring(0, assignment.indexOf('=')), assignment.substring(assignment.indexOf('=') + 1));
        }
        if (i < args.size()) {
            return command(args.subList(i, args.size()), io, extra);
        }
        return printenv(List.of("printenv"), io, extra);
    }

    private int printenv(List<String> args, Io io, Map<String, String> local) {
        Map<String, String> all = new LinkedHashMap<>(env);
        all.putAll(local);
        if (args.size() == 1) {
            all.forEach((key, value) -> io.out(key + "=" + value + "\n"));
            return 0;
        }
        int result = 0;
        for (String name : args.subList(1, args.size())) {
            if (all.containsKey(name)) {
                io.out(all.get(name) + "\n");
            } else {
                result = 1;
            }
        }
        return result;
    }

    private int ls(List<String> args, Io io) {
        List<String> names = args.subList(1, args.size()).stream().filter(a -> !a.startsWith("-")).toList();
        int result = 0;
        for (String name : names.isEmpty() ? List.of(".") : names) {
            String path = MemoryFileSystem.normalize(name, cwd);
            if (fs.get(path).isEmpty()) {
                io.err("ls: cannot access '" + name + "': " + MemoryFileSystem.NO_SUCH_FILE + "\n");
                result = 2;
            } else if (fs.isDirectory(path)) {
                fs.children(path).forEach(child -> io.out(child + "\n"));
            } else {
                io.out(name + "\n");
            }
        }
        return result;
    }

    private int fileCommand(String program, List<String> args, Io io) {
        String flags = args.subList(1, args.size()).stream()
            .filter(a -> a.startsWith("-") && a.length() > 1).reduce("", String::concat);
        List<String> names = args.subList(1, args.size()).stream()
            .filter(a -> !a.startsWith("-") || a.length() == 1).toList();
        if (names.isEmpty()) {
            io.err(program + ": missing operand\n");
            return 1;
        }
        int result = 0;
        for (String name : names) {
            String path = MemoryFileSystem.normalize(name, cwd);
            try {
                switch (program) {
                    case "mkdir" -> fs.mkdir(path, flags.contains("p"), clock.instant());
                    case "touch" -> fs.touch(path, clock.instant());
                    default -> fs.remove(path, flags.contains("r") || flags.contains("R"));
                }
            } catch (FsException e) {
                if (program.equals("rm") && flags.contains("f") && e.getMessage().equals(MemoryFileSystem.NO_SUCH_FILE)) {
                    continue;
                }
                String verb = switch (program) {
                    case "mkdir" -> "cannot create directory";
                    case "touch" -> "cannot touch";
                    default -> "cannot remove";
                };
                io.err(program + ": " + verb + " '" + name + "': " + e.getMessage() + "\n");
                result = 1;
            }
        }
        return result;
    }

    /** The two output streams of a command. */
    private record Io(Sink out, Sink err) {
        void out(String text) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }

        void err(String text) {
            err.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Unwinds the interpreter on {@code exit}; carries no stack trace because it is control flow. */
    private static final class Exit extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int code;

        Exit(int code) {
            super(null, null, false, false);
            this.code = code;
        }
    }

    /** Unwinds the interpreter when the entrypoint would keep running. */
    private static final class StillRunning extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StillRunning() {
            super(null, null, false, false);
        }
    }
}
