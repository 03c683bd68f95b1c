package dev.opensandbox.server.execd;

import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.spi.FileInfo;
import dev.opensandbox.core.spi.SandboxRuntime;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The file and directory endpoints of the built-in execd. Contents move through the runtime's
 * file-transfer verbs (for Docker, the archive API); metadata, listing, moving, permissions and
 * removal run as short shell scripts with the paths as positional parameters.
 */
final class Files {

    /** One line per entry: type|size|mtime|ctime|owner|group|octal mode|path (the path last: it may hold '|'). */
    static final String STAT_FORMAT = "%F|%s|%Y|%Z|%U|%G|%a|%n";
    static final int MISSING_EXIT = 44;
    static final int SYMLINK_EXIT = 45;
    static final int NOT_A_DIRECTORY_EXIT = 46;
    static final int IS_A_DIRECTORY_EXIT = 47;
    static final int MISSING_PARENT_EXIT = 48;
    /** Longer paths are refused by every Linux filesystem call (PATH_MAX, terminating NUL included). */
    static final int MAX_PATH_BYTES = 4095;
    /** The largest file {@code /files/replace} edits in memory. */
    static final long MAX_REPLACE_BYTES = 64L * 1024 * 1024;

    private static final String STAT = """
        for p in "$@"; do
          if [ -e "$p" ] || [ -L "$p" ]; then stat -c '%s' "$p" || exit 1; else printf 'MISSING|%%s\\n' "$p"; fi
        done
        """.formatted(STAT_FORMAT);
    private static final String LIST = """
        p="$1"
        [ -L "$p" ] && exit %d
        [ -e "$p" ] || exit %d
        [ -d "$p" ] || exit %d
        find "$p" -mindepth 1 -maxdepth "$2" -exec stat -c '%s' {} +
        """.formatted(SYMLINK_EXIT, MISSING_EXIT, NOT_A_DIRECTORY_EXIT, STAT_FORMAT);
    /** Regular files anywhere below $1; a linked root directory is followed (the trailing slash), links below are not. */
    private static final String SEARCH = """
        p="$1"
        [ -e "$p" ] || exit %d
        [ -d "$p" ] || exit %d
        case "$p" in */) ;; *) p="$p/" ;; esac
        find "$p" -type f -exec stat -c '%s' {} +
        """.formatted(MISSING_EXIT, NOT_A_DIRECTORY_EXIT, STAT_FORMAT);
    private static final String REMOVE_FILES = """
        for p in "$@"; do
          if [ -d "$p" ] && [ ! -L "$p" ]; then printf 'is a directory: %%s\\n' "$p" >&2; exit %d; fi
          rm -f "$p" || exit 1
        done
        """.formatted(IS_A_DIRECTORY_EXIT);
    private static final String REMOVE_DIRECTORIES = """
        for p in "$@"; do rm -rf "$p" || exit 1; done
        """;
    /** The upstream contract: the target directory must exist (it is not created). */
    private static final String MOVE = """
        { [ -e "$1" ] || [ -L "$1" ]; } || exit %d
        case "$2" in */*) d="${2%%/*}"; d="${d:-/}" ;; *) d=. ;; esac
        [ -d "$d" ] || { printf '%%s\\n' "$d" >&2; exit %d; }
        mv "$1" "$2"
        """.formatted(MISSING_EXIT, MISSING_PARENT_EXIT);
    /** $1 path, $2 octal mode or empty, $3 owner[:group] or :group or empty, $4 "mkdir" to create it first. */
    private static final String PERMISSIONS = """
        if [ "$4" = mkdir ]; then mkdir -p "$1" || exit 1; fi
        { [ -e "$1" ] || [ -L "$1" ]; } || exit %d
        if [ -n "$2" ]; then chmod "$2" "$1" || exit 1; fi
        if [ -n "$3" ]; then chown "$3" "$1" || exit 1; fi
        """.formatted(MISSING_EXIT);

    private final SandboxRuntime runtime;
    private final SandboxShell shell;

    Files(SandboxRuntime runtime) {
        this.runtime = runtime;
        this.shell = new SandboxShell(runtime);
    }

    /** What a file endpoint reports about an entry (the execd API's FileInfo). */
    record Entry(String path, String type, long size, Instant modifiedAt, Instant createdAt, String owner, String group,
                 int mode) {

        Map<String, Object> toJson() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("path", path);
            body.put("type", type);
            body.put("size", size);
            body.put("modified_at", modifiedAt.toString());
            body.put("created_at", createdAt.toString());
            body.put("owner", owner);
            body.put("group", group);
            body.put("mode", mode);
            return body;
        }
    }

    /** Permissions as the API writes them: {@code mode} is octal digits written as a decimal number (755). */
    record Permission(Integer mode, String owner, String group) {

        Permission {
            if (mode != null && !validMode(mode)) {
                throw ExecdException.badRequest("invalid mode " + mode + ": write octal permission digits, e.g. 644 or 755");
            }
            owner = blankToNull(owner);
            group = blankToNull(group);
            for (String name : new String[] {owner, group}) {
                if (name != null && !name.matches("[A-Za-z0-9._][A-Za-z0-9._-]{0,63}")) {
                    throw ExecdException.badRequest("invalid owner or group name: " + name);
                }
            }
        }

        String modeArgument() {
            return mode == null ? "" : Integer.toString(mode);
        }

        String ownerArgument() {
            if (owner == null && group == null) {
                return "";
            }
            return (owner == null ? "" : owner) + (group == null ? "" : ":" + group);
        }
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }

    static boolean validMode(int mode) {
        String digits = Integer.toString(mode);
        return mode >= 0 && digits.length() <= 4 && digits.chars().allMatch(c -> c >= '0' && c <= '7');
    }

    /** {@code 755} (as the API writes it) to the permission bits {@code 0755}. */
    static int modeBits(int apiMode) {
        return Integer.parseInt(Integer.toString(apiMode), 8);
    }

    // ------------------------------------------------------------------ metadata

    Map<String, Object> info(SandboxId id, List<String> paths) {
        requirePaths(paths);
        SandboxShell.Result result = shell.run(id, STAT, argsOf(paths));
        Map<String, Object> body = new LinkedHashMap<>();
        List<String> lines = result.lines();
        for (String line : lines) {
            if (line.startsWith("MISSING|")) {
                throw ExecdException.fileNotFound(line.substring("MISSING|".length()));
            }
        }
        if (result.exitCode() != 0) {
            throw refused("error reading file info", result);
        }
        for (int i = 0; i < lines.size() && i < paths.size(); i++) {
            body.put(paths.get(i), parse(lines.get(i)).toJson());
        }
        return body;
    }

    List<Map<String, Object>> listDirectory(SandboxId id, String path, int depth) {
        requirePaths(List.of(path));
        SandboxShell.Result result = shell.run(id, LIST, List.of(safe(path), Integer.toString(Math.max(depth, 1))));
        checkDirectoryResult(result, path);
        List<Entry> entries = parseAll(result, path);
        String root = safe(path);
        entries.sort(Comparator.comparing(e -> segments(root, e.path()), Files::compareSegments));
        return entries.stream().map(Entry::toJson).toList();
    }

    List<Map<String, Object>> search(SandboxId id, String root, String pattern) {
        requirePaths(List.of(root));
        String glob = pattern == null || pattern.isBlank() ? "**" : pattern;
        PathMatcher matcher;
        try {
            matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob);
        } catch (IllegalArgumentException e) {
            throw ExecdException.badRequest("invalid glob pattern '" + glob + "': " + e.getMessage());
        }
        SandboxShell.Result result = shell.run(id, SEARCH, List.of(safe(root)));
        checkDirectoryResult(result, root);
        String base = safe(root);
        boolean wholePath = glob.contains("/");
        List<Map<String, Object>> matches = new ArrayList<>();
        for (Entry entry : parseAll(result, root)) {
            String relative = String.join("/", segments(base, entry.path()));
            String candidate = wholePath ? relative : relative.substring(relative.lastIndexOf('/') + 1);
            if (matcher.matches(Path.of(candidate))) {
                matches.add(entry.toJson());
            }
        }
        return matches;
    }

    private void checkDirectoryResult(SandboxShell.Result result, String path) {
        switch (result.exitCode()) {
            case 0 -> {
            }
            case MISSING_EXIT -> throw ExecdException.fileNotFound(path);
            case SYMLINK_EXIT -> throw ExecdException.badRequest(path + " is a symbolic link: pass the real directory path");
            case NOT_A_DIRECTORY_EXIT -> throw ExecdException.badRequest(path + " is not a directory");
            default -> {
                // find reports unreadable subdirectories but lists the rest: partial output is still an answer
                if (result.stdout().isEmpty()) {
                    throw refused("error listing " + path, result);
                }
            }
        }
        if (result.truncated()) {
            throw ExecdException.badRequest("too many entries under " + path + ": list a smaller depth or directory");
        }
    }

    private static List<Entry> parseAll(SandboxShell.Result result, String path) {
        List<Entry> entries = new ArrayList<>();
        for (String line : result.lines()) {
            try {
                entries.add(parse(line));
            } catch (RuntimeException e) {
                // a name with a newline splits its line: skip the fragments rather than fail the listing
            }
        }
        return entries;
    }

    static Entry parse(String line) {
        String[] f = line.split("\\|", 8);
        if (f.length < 8) {
            throw new IllegalArgumentException("not a stat line: " + line);
        }
        String type = f[0].contains("directory") ? "directory"
            : f[0].contains("symbolic link") ? "symlink"
            : f[0].contains("regular") ? "file" : "other";
        return new Entry(f[7], type, Long.parseLong(f[1]), Instant.ofEpochSecond(Long.parseLong(f[2])),
            Instant.ofEpochSecond(Long.parseLong(f[3])), f[4], f[5], Integer.parseInt(f[6]));
    }

    static List<String> segments(String root, String path) {
        String relative = path.startsWith(root) ? path.substring(root.length()) : path;
        return Arrays.stream(relative.split("/")).filter(s -> !s.isEmpty()).toList();
    }

    /** Component by component: a directory comes right before its own descendants. */
    static int compareSegments(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    // ------------------------------------------------------------------ changes

    void removeFiles(SandboxId id, List<String> paths) {
        requirePaths(paths);
        SandboxShell.Result result = shell.run(id, REMOVE_FILES, argsOf(paths));
        if (result.exitCode() == IS_A_DIRECTORY_EXIT) {
            throw ExecdException.badRequest(result.reason() + " (remove directories with DELETE /directories)");
        }
        failUnlessZero(result, "error removing files");
    }

    void removeDirectories(SandboxId id, List<String> paths) {
        requirePaths(paths);
        failUnlessZero(shell.run(id, REMOVE_DIRECTORIES, argsOf(paths)), "error removing directories");
    }

    void move(SandboxId id, String source, String destination) {
        requirePaths(List.of(source, destination));
        SandboxShell.Result result = shell.run(id, MOVE, List.of(safe(source), safe(destination)));
        if (result.exitCode() == MISSING_EXIT) {
            throw ExecdException.fileNotFound(source);
        }
        if (result.exitCode() == MISSING_PARENT_EXIT) {
            throw new ExecdException(404, ExecdException.FILE_NOT_FOUND,
                "target directory not found: " + result.reason() + " (it must exist before moving " + source + " into it)");
        }
        failUnlessZero(result, "error moving " + source + " to " + destination);
    }

    void setPermissions(SandboxId id, String path, Permission permission, boolean createDirectory) {
        requirePaths(List.of(path));
        SandboxShell.Result result = shell.run(id, PERMISSIONS, List.of(safe(path), permission.modeArgument(),
            permission.ownerArgument(), createDirectory ? "mkdir" : ""));
        if (result.exitCode() == MISSING_EXIT) {
            throw ExecdException.fileNotFound(path);
        }
        failUnlessZero(result, "error changing " + path);
    }

    /** Replaces every occurrence of {@code from} by {@code to}; keeps the file's mode; returns the count. */
    int replace(SandboxId id, String path, String from, String to) {
        requirePaths(List.of(path));
        if (from == null || from.isEmpty()) {
            throw ExecdException.badRequest("invalid request, validation error: 'old' must not be empty");
        }
        if (to == null) {
            throw ExecdException.badRequest("invalid request, validation error: 'new' is required");
        }
        FileInfo info = runtime.statFile(id, safe(path)).orElseThrow(() -> ExecdException.fileNotFound(path));
        if (info.directory()) {
            throw ExecdException.badRequest(path + " is a directory");
        }
        if (info.size() > MAX_REPLACE_BYTES) {
            throw ExecdException.badRequest(path + " is larger than " + MAX_REPLACE_BYTES + " bytes");
        }
        String text;
        try (InputStream in = runtime.readFile(id, safe(path))) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw ExecdException.runtimeError("error reading " + path + ": " + e.getMessage());
        }
        int count = 0;
        for (int at = text.indexOf(from); at >= 0; at = text.indexOf(from, at + from.length())) {
            count++;
        }
        if (count > 0) {
            byte[] replaced = text.replace(from, to).getBytes(StandardCharsets.UTF_8);
            runtime.writeFile(id, safe(path), new ByteArrayInputStream(replaced), replaced.length, info.mode());
        }
        return count;
    }

    /** Writes one uploaded file, then applies the owner and group the metadata asked for. */
    void upload(SandboxId id, String path, InputStream content, long size, Permission permission) {
        requirePaths(List.of(path));
        int bits = permission.mode() == null ? 0644 : modeBits(permission.mode());
        runtime.writeFile(id, absolute(path), content, size, bits);
        if (!permission.ownerArgument().isEmpty()) {
            setPermissions(id, absolute(path), new Permission(null, permission.owner(), permission.group()), false);
        }
    }

    Optional<FileInfo> stat(SandboxId id, String path) {
        requirePaths(List.of(path));
        return runtime.statFile(id, absolute(path));
    }

    InputStream open(SandboxId id, String path) {
        return runtime.readFile(id, absolute(path));
    }

    // ------------------------------------------------------------------ helpers

    private static void failUnlessZero(SandboxShell.Result result, String what) {
        if (result.exitCode() != 0) {
            throw refused(what, result);
        }
    }

    /**
     * As {@link #refused(String, String)}, and 501 when the sandbox could not run the operation at
     * all: a command it does not have (exit 127, POSIX's "not found") or a shell that cannot parse
     * the script (exit 2 with a syntax error). Not the server's fault, nor the request's: the
     * sandbox's image lacks what the operation needs.
     */
    /** The shell's own words for a command it does not have: {@code sh: stat: not found}, {@code bash: line 1: x: command not found}. */
    private static final java.util.regex.Pattern SHELL_LACKS = java.util.regex.Pattern.compile(
        "(?m)^(?:/bin/)?(?:sh|bash|ash|dash): (?:line \\d+: )?[^:\\n]+: (?:command )?not found\\s*$");

    static ExecdException refused(String what, SandboxShell.Result result) {
        String reason = result.reason();
        boolean unrunnable = result.exitCode() == 127 || SHELL_LACKS.matcher(result.stderr()).find()
            || (result.exitCode() == 2 && reason.toLowerCase(java.util.Locale.ROOT).contains("syntax error"));
        if (unrunnable) {
            return new ExecdException(501, ExecdException.NOT_IMPLEMENTED, what + ": the sandbox cannot run this "
                + "operation; its shell or tools lack what it needs (" + reason + ")");
        }
        return refused(what, reason);
    }

    /**
     * A tool in the sandbox refused a change. What the request asked for is the cause when the
     * tool says so in one of the system's standard messages (the same words from busybox and
     * coreutils): a missing path is 404, a forbidden change 403, an impossible one (wrong type,
     * unknown owner) 400. Anything else is the sandbox's failure, 500.
     */
    static ExecdException refused(String what, String reason) {
        String text = reason.toLowerCase(java.util.Locale.ROOT);
        String message = what + ": " + reason;
        if (text.contains("no such file or directory")) {
            return new ExecdException(404, ExecdException.FILE_NOT_FOUND, message);
        }
        if (text.contains("permission denied") || text.contains("operation not permitted")
            || text.contains("read-only file system")) {
            return new ExecdException(403, ExecdException.PERMISSION_DENIED, message);
        }
        for (String mistake : new String[] {"not a directory", "is a directory", "file exists", "directory not empty",
            "unknown user", "unknown group", "invalid user", "invalid group", "invalid argument",
            "file name too long", "same file", "into itself", "subdirectory of itself", "can't overwrite", "cannot overwrite"}) {
            if (text.contains(mistake)) {
                return ExecdException.badRequest(message);
            }
        }
        return ExecdException.runtimeError(message);
    }

    private static void requirePaths(List<String> paths) {
        if (paths == null || paths.isEmpty()) {
            throw ExecdException.missingQuery("path");
        }
        for (String path : paths) {
            if (path == null || path.isBlank()) {
                throw ExecdException.missingQuery("path");
            }
            if (path.indexOf('\0') >= 0 || path.indexOf('\n') >= 0) {
                throw ExecdException.badRequest("invalid path: control characters are not allowed");
            }
            if (path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
                throw ExecdException.badRequest("invalid path: longer than " + MAX_PATH_BYTES + " bytes");
            }
        }
    }

    private static List<String> argsOf(List<String> paths) {
        return paths.stream().map(Files::safe).toList();
    }

    /** A path a command cannot mistake for an option. */
    static String safe(String path) {
        return path.startsWith("-") ? "./" + path : path;
    }

    /**
     * The file-transfer verbs need absolute paths; a relative one is taken from the sandbox's root
     * (the shell scripts resolve relative paths from the working directory of the image instead).
     */
    static String absolute(String path) {
        return path.startsWith("/") ? path : "/" + path;
    }
}
