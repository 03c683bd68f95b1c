package dev.opensandbox.core.memory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The filesystem of one in-memory sandbox: absolute normalized paths mapped to files and
 * directories. Not thread-safe; its {@link MemorySandbox} guards it.
 *
 * <p>Entries are immutable and byte arrays are copied on the way in and out, so that a snapshot
 * can share entries with its source by copying only the map.
 */
final class MemoryFileSystem {

    static final int DEFAULT_FILE_MODE = 0644;
    static final int DEFAULT_DIR_MODE = 0755;

    /** One file or directory. {@code content} is empty for directories and never handed out. */
    record Entry(boolean directory, byte[] content, int mode, Instant modifiedAt) {
    }

    /** A failed operation; {@code reason} is the errno text a shell would print. */
    static final class FsException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        FsException(String reason) {
            super(reason, null, false, false);
        }
    }

    static final String NO_SUCH_FILE = "No such file or directory";
    static final String IS_A_DIRECTORY = "Is a directory";
    static final String NOT_A_DIRECTORY = "Not a directory";
    static final String FILE_EXISTS = "File exists";

    // A sorted map keeps a directory's descendants contiguous, which makes ls and rm -r range scans.
    private final TreeMap<String, Entry> entries;

    private MemoryFileSystem(TreeMap<String, Entry> entries) {
        this.entries = entries;
    }

    /** A filesystem with the directories every image has. */
    static MemoryFileSystem base(Instant now) {
        MemoryFileSystem fs = new MemoryFileSystem(new TreeMap<>());
        fs.entries.put("/", new Entry(true, new byte[0], DEFAULT_DIR_MODE, now));
        fs.entries.put("/tmp", new Entry(true, new byte[0], 01777, now));
        return fs;
    }

    MemoryFileSystem copy() {
        return new MemoryFileSystem(new TreeMap<>(entries));
    }

    /**
     * Resolves {@code path} against {@code cwd} and removes {@code .}, {@code ..} and repeated
     * slashes, as the kernel would.
     */
    static String normalize(String path, String cwd) {
        String full = path.startsWith("/") ? path : cwd + "/" + path;
        Deque<String> parts = new ArrayDeque<>();
        for (String part : full.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                parts.pollLast();
            } else {
                parts.addLast(part);
            }
        }
        return "/" + String.join("/", parts);
    }

    Optional<Entry> get(String path) {
        return Optional.ofNullable(entries.get(path));
    }

    boolean isDirectory(String path) {
        Entry entry = entries.get(path);
        return entry != null && entry.directory();
    }

    /** The content of a file; fails for a missing path or a directory. */
    byte[] read(String path) {
        Entry entry = entries.get(path);
        if (entry == null) {
            throw new FsException(NO_SUCH_FILE);
        }
        if (entry.directory()) {
            throw new FsException(IS_A_DIRECTORY);
        }
        return entry.content().clone();
    }

    /**
     * Creates or replaces a file.
     *
     * @param createParents whether missing parent directories are created (the file API) or an
     *                      error (a shell redirection)
     */
    void write(String path, byte[] content, int mode, Instant now, boolean createParents) {
        Entry existing = entries.get(path);
        if (existing != null && existing.directory()) {
            throw new FsException(IS_A_DIRECTORY);
        }
        ensureParent(path, createParents, now);
        entries.put(path, new Entry(false, content.clone(), mode & 07777, now));
    }

    /** Appends to a file, creating it (but not its parents) when missing. */
    void append(String path, byte[] more, Instant now) {
        Entry existing = entries.get(path);
        if (existing == null) {
            write(path, more, DEFAULT_FILE_MODE, now, false);
            return;
        }
        if (existing.directory()) {
            throw new FsException(IS_A_DIRECTORY);
        }
        byte[] joined = Arrays.copyOf(existing.content(), existing.content().length + more.length);
        System.arraycopy(more, 0, joined, existing.content().length, more.length);
        entries.put(path, new Entry(false, joined, existing.mode(), now));
    }

    /** Creates an empty file or moves its modification time to {@code now}. */
    void touch(String path, Instant now) {
        Entry existing = entries.get(path);
        if (existing == null) {
            write(path, new byte[0], DEFAULT_FILE_MODE, now, false);
        } else {
            entries.put(path, new Entry(existing.directory(), existing.content(), existing.mode(), now));
        }
    }

    void mkdir(String path, boolean parents, Instant now) {
        Entry existing = entries.get(path);
        if (existing != null) {
            if (existing.directory() && parents) {
                return;
            }
            throw new FsException(FILE_EXISTS);
        }
        ensureParent(path, parents, now);
        entries.put(path, new Entry(true, new byte[0], DEFAULT_DIR_MODE, now));
    }

    void remove(String path, boolean recursive) {
        Entry existing = entries.get(path);
        if (existing == null) {
            throw new FsException(NO_SUCH_FILE);
        }
        if (existing.directory()) {
            if (!recursive) {
                throw new FsException(IS_A_DIRECTORY);
            }
            entries.subMap(childPrefix(path), childPrefix(path) + Character.MAX_VALUE).clear();
        }
        // The root survives rm -rf /: only its contents go, as with a container's mount point.
        if (!path.equals("/")) {
            entries.remove(path);
        }
    }

    /** Names of the direct children of a directory, sorted. */
    List<String> children(String dir) {
        String prefix = childPrefix(dir);
        List<String> names = new ArrayList<>();
        for (String key : entries.subMap(prefix, prefix + Character.MAX_VALUE).keySet()) {
            String rest = key.substring(prefix.length());
            if (!rest.isEmpty() && rest.indexOf('/') < 0) {
                names.add(rest);
            }
        }
        return names;
    }

    private static String childPrefix(String dir) {
        return dir.equals("/") ? "/" : dir + "/";
    }

    private static String parentOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    private void ensureParent(String path, boolean create, Instant now) {
        if (path.equals("/")) {
            return;
        }
        String parent = parentOf(path);
        Entry entry = entries.get(parent);
        if (entry == null) {
            if (!create) {
                throw new FsException(NO_SUCH_FILE);
            }
            ensureParent(parent, true, now);
            entries.put(parent, new Entry(true, new byte[0], DEFAULT_DIR_MODE, now));
        } else if (!entry.directory()) {
            throw new FsException(NOT_A_DIRECTORY);
        }
    }
}
