package dev.opensandbox.server.execd;

import dev.opensandbox.core.SandboxId;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bash sessions of the built-in execd, emulated over one-shot execs: a session is a state
 * directory inside the sandbox holding the working directory and the exported environment.
 * Each run restores both, runs the command, and saves both again on exit (also after
 * {@code exit N} or a failure), so {@code cd} and {@code export} carry over from one run to the
 * next. Unexported shell variables, functions, aliases and background jobs do not: each run is a
 * new shell process.
 */
final class Sessions {

    /** Where session state lives inside a sandbox; ids are server-made hex, safe inside scripts. */
    static final String STATE_ROOT = "/tmp/.opensandbox-execd/sessions/";
    static final int MAX_SESSIONS = 1000;
    /** The per-run working directory travels in the environment, never spliced into script text. */
    static final String CWD_VARIABLE = "OPENSANDBOX_SESSION_CWD";

    private static final String CREATE = """
        mkdir -p "$1" || exit 1
        if [ -n "$2" ]; then cd "$2" || exit %d; fi
        pwd > "$1/cwd" && : > "$1/env"
        """.formatted(Files.MISSING_EXIT);

    private final SandboxShell shell;
    private final Commands commands;
    private final Map<String, SandboxId> sessions = new ConcurrentHashMap<>();

    Sessions(SandboxShell shell, Commands commands) {
        this.shell = shell;
        this.commands = commands;
    }

    /** Creates a session starting in {@code cwd} (null: the image's working directory); returns its id. */
    String create(SandboxId sandbox, String cwd) {
        if (sessions.size() >= MAX_SESSIONS) {
            throw new ExecdException(409, ExecdException.INVALID_REQUEST,
                "too many sessions (" + MAX_SESSIONS + "): delete some with DELETE /session/{id}");
        }
        String id = UUID.randomUUID().toString().replace("-", "");
        SandboxShell.Result result = shell.run(sandbox, CREATE, List.of(stateDir(id), cwd == null ? "" : cwd));
        if (result.exitCode() == Files.MISSING_EXIT) {
            throw ExecdException.badRequest("cwd " + cwd + " cannot be entered: " + result.reason());
        }
        if (result.exitCode() != 0) {
            throw Files.refused("error creating the session", result.reason());
        }
        sessions.put(id, sandbox);
        return id;
    }

    /** Runs one command in a session, streamed exactly like {@code POST /command}. */
    void run(SandboxId sandbox, String id, String command, String cwd, long timeoutMillis, Commands.StreamOpener opener) {
        require(sandbox, id);
        Map<String, String> env = new LinkedHashMap<>();
        if (cwd != null && !cwd.isBlank()) {
            env.put(CWD_VARIABLE, cwd);
        }
        Commands.RunCommand request = new Commands.RunCommand(script(id, command), null, false, timeoutMillis, null, null,
            env);
        commands.run(sandbox, request, command, opener);
    }

    void delete(SandboxId sandbox, String id) {
        require(sandbox, id);
        sessions.remove(id);
        shell.run(sandbox, "rm -rf \"$1\"", List.of(stateDir(id)));
    }

    /** Forgets the sessions of a removed sandbox (their state went with its filesystem). */
    void forgetSandbox(SandboxId sandbox) {
        sessions.values().removeIf(sandbox::equals);
    }

    /** How many sessions are open, for tests. */
    int count() {
        return sessions.size();
    }

    private void require(SandboxId sandbox, String id) {
        if (id == null || !sandbox.equals(sessions.get(id))) {
            throw new ExecdException(404, ExecdException.NOT_FOUND, "session " + id + " not found");
        }
    }

    static String stateDir(String id) {
        if (!id.matches("[0-9a-f]{32}")) {
            throw new IllegalArgumentException("not a session id: " + id);
        }
        return STATE_ROOT + id;
    }

    /**
     * The script of one run: restore the exported environment and the directory (or the run's
     * own {@code cwd}), save both on any exit, then the user's command as written.
     */
    static String script(String id, String command) {
        String dir = stateDir(id);
        return "__osb_dir='" + dir + "'\n"
            + "__osb_save() { pwd > \"$__osb_dir/cwd\"; export -p > \"$__osb_dir/env.next\" && "
            + "mv -f \"$__osb_dir/env.next\" \"$__osb_dir/env\"; }\n"
            + "[ -d \"$__osb_dir\" ] || { echo \"session state $__osb_dir is gone\" >&2; exit 1; }\n"
            + ". \"$__osb_dir/env\" 2>/dev/null\n"
            + "__osb_cwd=\"${" + CWD_VARIABLE + ":-$(cat \"$__osb_dir/cwd\")}\"\n"
            + "unset " + CWD_VARIABLE + "\n"
            + "cd \"$__osb_cwd\" || exit 1\n"
            + "unset __osb_cwd\n"
            + "trap __osb_save EXIT\n"
            + command + "\n";
    }
}
