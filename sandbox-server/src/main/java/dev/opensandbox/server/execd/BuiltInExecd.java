package dev.opensandbox.server.execd;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.core.Sandbox;
import dev.opensandbox.core.SandboxException;
import dev.opensandbox.core.SandboxId;
import dev.opensandbox.core.SandboxState;
import dev.opensandbox.core.service.SandboxService;
import dev.opensandbox.server.errors.ErrorStatus;
import dev.opensandbox.core.spi.FileInfo;
import dev.opensandbox.core.spi.ResourceUsage;
import io.javalin.http.Context;
import jakarta.servlet.MultipartConfigElement;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.Part;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The execd API answered by the server itself, for sandboxes without an injected daemon: what
 * the official SDKs call on the endpoint of port 44772 ({@code /ping}, {@code /command},
 * {@code /files/...}, {@code /directories...}, {@code /metrics}), executed through the runtime's
 * exec, file-transfer and statistics verbs. Works with any image that has a POSIX shell.
 *
 * <p>{@link #handle} blocks (commands stream until they exit): callers run it on a thread of
 * their own, never on a Jetty request thread. Errors are {@code {code, message}} with the execd's
 * own code strings; {@code /code...} answers 501 (code interpreting needs a Jupyter-capable
 * daemon). Bash sessions are emulated (see {@link Sessions}): directory and exported environment
 * carry over between runs.
 */
public final class BuiltInExecd implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BuiltInExecd.class);
    /** The in-sandbox port whose traffic the built-in execd answers. */
    public static final int PORT = 44772;
    static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);
    /** Bound on one {@code /metrics/watch} stream; clients reconnect for more. */
    static final Duration WATCH_LIMIT = Duration.ofHours(1);
    private static final long MAX_JSON_BODY = 16L * 1024 * 1024;
    private static final String MULTIPART_CONFIG = "org.eclipse.jetty.multipartConfig";

    private final SandboxService sandboxes;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper()
        .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final ScheduledExecutorService timers;
    private final Commands commands;
    private final Files files;
    private final Sessions sessions;

    public BuiltInExecd(SandboxService sandboxes, Clock clock, Executor workers) {
        this(sandboxes, clock, workers, ExecdSettings.defaults());
    }

    /**
     * @param settings the bounds and retention times of background-command output
     */
    public BuiltInExecd(SandboxService sandboxes, Clock clock, Executor workers, ExecdSettings settings) {
        this.sandboxes = sandboxes;
        this.clock = clock;
        this.timers = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "opensandbox-execd-timer");
            thread.setDaemon(true);
            return thread;
        });
        this.commands = new Commands(sandboxes.runtime(), clock, json, timers, workers, settings, Commands.PING_INTERVAL);
        this.files = new Files(sandboxes.runtime());
        this.sessions = new Sessions(new SandboxShell(sandboxes.runtime()), commands);
        sandboxes.onSandboxRemoved(this::sandboxRemoved);
    }

    /** Everything kept for a sandbox goes with it: command runs, their output, sessions. */
    private void sandboxRemoved(SandboxId id) {
        commands.forgetSandbox(id);
        sessions.forgetSandbox(id);
    }

    Commands commands() {
        return commands;
    }

    Sessions sessions() {
        return sessions;
    }

    @Override
    public void close() {
        commands.closing();
        timers.shutdownNow();
    }

    /**
     * Answers one execd request for a sandbox.
     *
     * @param rawPath the path below {@code /proxy/44772/}, still percent-encoded, without its leading slash
     */
    public void handle(Context ctx, SandboxId id, String rawPath) {
        String method = ctx.method().name();
        try {
            List<String> path = decodePath(rawPath);
            checkQueryEncoding(ctx.queryString());
            requireRunning(id);
            route(ctx, id, method, path);
        } catch (ExecdException e) {
            error(ctx, e.status, e.code, e.getMessage());
        } catch (SandboxException e) {
            error(ctx, ErrorStatus.of(e.kind()), e.code(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("execd: {} /{} in {} failed unexpectedly", method, rawPath, id, e);
            error(ctx, 500, ExecdException.RUNTIME_ERROR, "An unexpected error occurred: " + e.getClass().getSimpleName());
        }
    }

    /**
     * Path segments, percent-decoded ({@code +} stays a plus: this is a path, not a form). Jetty
     * refuses malformed escapes in the path before any handler runs; this refuses them too, as 400.
     */
    static List<String> decodePath(String rawPath) {
        List<String> path = new ArrayList<>();
        for (String segment : rawPath.split("/")) {
            if (!segment.isEmpty()) {
                path.add(percentDecode(segment, "path"));
            }
        }
        return path;
    }

    /**
     * A query parameter with a malformed escape would be dropped silently when the query is parsed
     * ({@code path=%zz} would read as no path at all): refuse the request instead, saying why.
     */
    static void checkQueryEncoding(String query) {
        if (query == null || query.isEmpty()) {
            return;
        }
        for (String pair : query.split("&")) {
            percentDecode(pair, "query");
        }
    }

    private static String percentDecode(String text, String where) {
        try {
            return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ExecdException.badRequest("malformed percent-encoding in the request " + where + ": " + e.getMessage());
        }
    }

    private void route(Context ctx, SandboxId id, String method, List<String> path) {
        String first = path.isEmpty() ? "" : path.get(0);
        String joined = String.join("/", path);
        switch (method + " " + (first.equals("command") || first.equals("session") || first.equals("code") ? first : joined)) {
            case "GET ping", "HEAD ping" -> {
                ctx.contentType("text/plain");
                ctx.result("pong");
            }
            case "POST command" -> command(ctx, id, path);
            case "POST session", "DELETE session" -> session(ctx, id, method, path);
            case "GET command" -> commandQuery(ctx, id, path);
            case "DELETE command" -> {
                if (path.size() != 1) {
                    throw notFound(method, joined);
                }
                commands.interrupt(id, requiredQuery(ctx, "id"));
                ok(ctx);
            }
            case "GET metrics" -> ctx.json(metrics(id));
            case "GET metrics/watch" -> watchMetrics(ctx, id);
            case "GET files/info" -> ctx.json(files.info(id, ctx.queryParams("path")));
            case "DELETE files" -> {
                files.removeFiles(id, ctx.queryParams("path"));
                ok(ctx);
            }
            case "POST files/permissions" -> {
                for (Map.Entry<String, Files.Permission> entry : permissions(ctx).entrySet()) {
                    files.setPermissions(id, entry.getKey(), entry.getValue(), false);
                }
                ok(ctx);
            }
            case "POST files/mv" -> {
                JsonNode body = body(ctx);
                if (!body.isArray()) {
                    throw ExecdException.badRequest("error parsing request, expected an array of {src, dest}");
                }
                for (JsonNode item : body) {
                    files.move(id, text(item, "src", true), text(item, "dest", true));
                }
                ok(ctx);
            }
            case "GET files/search" -> ctx.json(files.search(id, requiredQuery(ctx, "path"), ctx.queryParam("pattern")));
            case "POST files/replace" -> replace(ctx, id);
            case "POST files/upload" -> upload(ctx, id);
            case "GET files/download" -> download(ctx, id);
            case "GET directories/list" -> ctx.json(files.listDirectory(id, requiredQuery(ctx, "path"),
                intQuery(ctx, "depth", 1)));
            case "POST directories" -> {
                for (Map.Entry<String, Files.Permission> entry : permissions(ctx).entrySet()) {
                    Files.Permission p = entry.getValue();
                    files.setPermissions(id, entry.getKey(),
                        p.mode() == null ? new Files.Permission(755, p.owner(), p.group()) : p, true);
                }
                ok(ctx);
            }
            case "DELETE directories" -> {
                files.removeDirectories(id, ctx.queryParams("path"));
                ok(ctx);
            }
            default -> {
                if (first.equals("code")) {
                    throw new ExecdException(501, ExecdException.NOT_IMPLEMENTED,
                        "Code interpreting is not available from the built-in execd: set [runtime] execd_image to inject "
                            + "a Jupyter-capable execd, or run code with POST /command.");
                }
                throw notFound(method, joined);
            }
        }
    }

    // ------------------------------------------------------------------ commands

    private void command(Context ctx, SandboxId id, List<String> path) {
        if (path.size() != 1) {
            throw notFound("POST", String.join("/", path));
        }
        JsonNode body = body(ctx);
        Map<String, String> envs = new LinkedHashMap<>();
        JsonNode envNode = body.get("envs");
        if (envNode != null && !envNode.isNull()) {
            if (!envNode.isObject()) {
                throw ExecdException.badRequest("error parsing request: envs must be an object of strings");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = envNode.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> env = it.next();
                envs.put(env.getKey(), env.getValue().isNull() ? "" : env.getValue().asText());
            }
        }
        Commands.RunCommand request = new Commands.RunCommand(text(body, "command", false), text(body, "cwd", false),
            body.path("background").asBoolean(false), longField(body, "timeout"), intField(body, "uid"),
            intField(body, "gid"), envs);
        commands.run(id, request, eventStream(ctx.res()));
    }

    /** Commits the status and headers of an event stream when the command has started. */
    private static Commands.StreamOpener eventStream(HttpServletResponse res) {
        return () -> {
            res.setStatus(200);
            res.setCharacterEncoding(null);
            res.setContentType("text/event-stream");
            res.setHeader("Cache-Control", "no-cache");
            res.setHeader("X-Accel-Buffering", "no");
            OutputStream out = res.getOutputStream();
            out.flush();
            return out;
        };
    }

    /** {@code POST /session}, {@code POST /session/{id}/run}, {@code DELETE /session/{id}}. */
    private void session(Context ctx, SandboxId id, String method, List<String> path) {
        if (method.equals("POST") && path.size() == 1) {
            JsonNode body = optionalBody(ctx);
            ctx.json(Map.of("session_id", sessions.create(id, text(body, "cwd", false))));
        } else if (method.equals("POST") && path.size() == 3 && path.get(2).equals("run")) {
            JsonNode body = body(ctx);
            String command = text(body, "command", false);
            if (command == null || command.isBlank()) {
                throw ExecdException.badRequest("invalid request, validation error: command is required");
            }
            long timeout = longField(body, "timeout");
            if (timeout < 0) {
                throw ExecdException.badRequest("invalid request, validation error: timeout must be >= 0");
            }
            sessions.run(id, path.get(1), command, text(body, "cwd", false), timeout, eventStream(ctx.res()));
        } else if (method.equals("DELETE") && path.size() == 2) {
            sessions.delete(id, path.get(1));
            ok(ctx);
        } else {
            throw notFound(method, String.join("/", path));
        }
    }

    private void commandQuery(Context ctx, SandboxId id, List<String> path) {
        if (path.size() == 3 && path.get(1).equals("status")) {
            ctx.json(commands.status(id, path.get(2)));
        } else if (path.size() == 3 && path.get(2).equals("logs")) {
            long cursor = Math.max(0, longQuery(ctx, "cursor", 0));
            OutputLog.Slice slice = commands.logs(id, path.get(1), cursor);
            ctx.header("EXECD-COMMANDS-TAIL-CURSOR", Long.toString(slice.end()));
            ctx.contentType("text/plain; charset=utf-8");
            ctx.result(slice.data());
        } else {
            throw notFound("GET", String.join("/", path));
        }
    }

    // ------------------------------------------------------------------ metrics

    private Map<String, Object> metrics(SandboxId id) {
        ResourceUsage usage = sandboxes.runtime().stats(id);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("cpu_count", usage.cpuCount());
        body.put("cpu_used_pct", usage.cpuUsedPercent());
        body.put("mem_total_mib", usage.memoryLimitBytes() / 1024.0 / 1024.0);
        body.put("mem_used_mib", usage.memoryUsedBytes() / 1024.0 / 1024.0);
        body.put("timestamp", clock.millis());
        return body;
    }

    /** One JSON line per second until the client leaves, the sandbox stops, or the bound passes. */
    private void watchMetrics(Context ctx, SandboxId id) {
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setCharacterEncoding(null);
        res.setContentType("text/event-stream");
        res.setHeader("Cache-Control", "no-cache");
        long end = System.nanoTime() + WATCH_LIMIT.toNanos();
        try {
            OutputStream out = res.getOutputStream();
            out.flush();
            while (System.nanoTime() < end) {
                long sampleStart = System.nanoTime();
                Object line;
                boolean stop = false;
                try {
                    line = metrics(id);
                } catch (SandboxException e) {
                    line = Map.of("error", e.getMessage());
                    stop = true;
                }
                out.write((json.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                if (stop) {
                    return;
                }
                // A sample can take most of a second (Docker measures CPU over an interval): keep the cadence.
                long spentMillis = (System.nanoTime() - sampleStart) / 1_000_000;
                Thread.sleep(Math.max(0, WATCH_INTERVAL.toMillis() - spentMillis));
            }
        } catch (IOException clientGone) {
            LOG.debug("execd: metrics watcher of {} left", id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ files

    private Map<String, Files.Permission> permissions(Context ctx) {
        JsonNode body = body(ctx);
        if (!body.isObject()) {
            throw ExecdException.badRequest("error parsing request, expected an object of path to {mode, owner, group}");
        }
        Map<String, Files.Permission> result = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            JsonNode p = entry.getValue();
            result.put(entry.getKey(), new Files.Permission(intField(p, "mode"), text(p, "owner", false),
                text(p, "group", false)));
        }
        return result;
    }

    private void replace(Context ctx, SandboxId id) {
        JsonNode body = body(ctx);
        if (!body.isObject()) {
            throw ExecdException.badRequest("error parsing request, expected an object of path to {old, new}");
        }
        Map<String, Object> counts = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            int count = files.replace(id, entry.getKey(), text(entry.getValue(), "old", false),
                text(entry.getValue(), "new", false));
            counts.put(entry.getKey(), Map.of("replacedCount", count));
        }
        if (Boolean.parseBoolean(ctx.queryParam("verbose"))) {
            ctx.json(counts);
        } else {
            ok(ctx);
        }
    }

    /** Multipart pairs: each {@code metadata} part (JSON {path, owner, group, mode}) goes with the {@code file} part of the same rank. */
    private void upload(Context ctx, SandboxId id) {
        String type = ctx.contentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new ExecdException(400, ExecdException.INVALID_FILE, "upload needs a multipart/form-data body");
        }
        ctx.req().setAttribute(MULTIPART_CONFIG, new MultipartConfigElement(
            System.getProperty("java.io.tmpdir"), -1, -1, 1024 * 1024));
        List<Part> metadata = new ArrayList<>();
        List<Part> contents = new ArrayList<>();
        try {
            for (Part part : ctx.req().getParts()) {
                if (part.getName().equals("metadata")) {
                    metadata.add(part);
                } else if (part.getName().equals("file")) {
                    contents.add(part);
                }
            }
            if (metadata.isEmpty() || metadata.size() != contents.size()) {
                throw new ExecdException(400, ExecdException.INVALID_FILE_METADATA,
                    "each file part needs a metadata part before it (got " + metadata.size() + " metadata and "
                        + contents.size() + " file parts)");
            }
            for (int i = 0; i < metadata.size(); i++) {
                JsonNode meta;
                try (InputStream in = metadata.get(i).getInputStream()) {
                    meta = json.readTree(in.readNBytes(64 * 1024));
                } catch (JsonProcessingException e) {
                    throw new ExecdException(400, ExecdException.INVALID_FILE_METADATA,
                        "metadata part " + (i + 1) + " is not valid JSON: " + e.getOriginalMessage());
                }
                String path = text(meta, "path", true);
                Files.Permission permission = new Files.Permission(intField(meta, "mode"), text(meta, "owner", false),
                    text(meta, "group", false));
                Part content = contents.get(i);
                try (InputStream in = content.getInputStream()) {
                    files.upload(id, path, in, content.getSize(), permission);
                }
            }
        } catch (IOException | ServletException | IllegalStateException e) {
            throw new ExecdException(400, ExecdException.INVALID_FILE, "error reading the upload: " + e.getMessage());
        } catch (RuntimeException e) {
            if (e instanceof ExecdException || e instanceof SandboxException) {
                throw e;
            }
            // A malformed multipart body (bad boundary, truncated part) surfaces as Jetty's unchecked BadMessageException.
            throw new ExecdException(400, ExecdException.INVALID_FILE, "error reading the upload: " + e.getMessage());
        } finally {
            try {
                for (Part part : ctx.req().getParts()) {
                    part.delete();
                }
            } catch (IOException | ServletException | IllegalStateException ignored) {
                // nothing was stored
            }
        }
        ok(ctx);
    }

    private void download(Context ctx, SandboxId id) {
        String path = requiredQuery(ctx, "path");
        FileInfo info = files.stat(id, path).orElseThrow(() -> ExecdException.fileNotFound(path));
        if (info.directory()) {
            throw ExecdException.badRequest(path + " is a directory");
        }
        long size = info.size();
        long start = 0;
        long end = size - 1;
        String range = ctx.header("Range");
        boolean partial = false;
        if (range != null && !range.isBlank()) {
            long[] parsed = parseRange(range, size);
            if (parsed == null) {
                ctx.header("Content-Range", "bytes */" + size);
                throw new ExecdException(416, ExecdException.INVALID_REQUEST,
                    "requested range not satisfiable: " + range + " (file size " + size + ")");
            }
            start = parsed[0];
            end = parsed[1];
            partial = true;
        }
        HttpServletResponse res = ctx.res();
        String name = Optional.ofNullable(Path.of(path).getFileName()).map(Path::toString).orElse("download");
        try (InputStream in = files.open(id, path)) {
            in.skipNBytes(start);
            res.setStatus(partial ? 206 : 200);
            res.setCharacterEncoding(null);
            res.setContentType("application/octet-stream");
            res.setHeader("Accept-Ranges", "bytes");
            res.setHeader("Content-Disposition", "attachment; filename=\"" + name.replace("\"", "") + "\"");
            if (partial) {
                res.setHeader("Content-Range", "bytes " + start + "-" + end + "/" + size);
            }
            long length = Math.max(0, end - start + 1);
            res.setContentLengthLong(length);
            OutputStream out = res.getOutputStream();
            byte[] buffer = new byte[64 * 1024];
            long left = length;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    break;
                }
                out.write(buffer, 0, n);
                left -= n;
            }
            out.flush();
        } catch (java.io.EOFException e) {
            throw ExecdException.runtimeError("file " + path + " shrank while being read");
        } catch (IOException clientGone) {
            LOG.debug("execd: download of {} in {} ended early: {}", path, id, clientGone.getMessage());
        }
    }

    /** {@code bytes=a-b}, {@code bytes=a-}, {@code bytes=-n}; null when unsatisfiable or not one range. */
    static long[] parseRange(String header, long size) {
        String value = header.trim();
        if (!value.startsWith("bytes=") || value.contains(",")) {
            return null;
        }
        String spec = value.substring("bytes=".length()).trim();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            String from = spec.substring(0, dash).trim();
            String to = spec.substring(dash + 1).trim();
            long start;
            long end;
            if (from.isEmpty()) {
                long suffix = Long.parseLong(to);
                if (suffix <= 0) {
                    return null;
                }
                start = Math.max(0, size - suffix);
                end = size - 1;
            } else {
                start = Long.parseLong(from);
                end = to.isEmpty() ? size - 1 : Math.min(Long.parseLong(to), size - 1);
            }
            if (start < 0 || start >= size || end < start) {
                return null;
            }
            return new long[] {start, end};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ helpers

    private void requireRunning(SandboxId id) {
        Sandbox sandbox = sandboxes.get(id);
        SandboxState state = sandbox.status().state();
        if (state != SandboxState.RUNNING) {
            throw new ExecdException(409, sandboxes.runtime().capabilities().errorNamespace() + "::SANDBOX_NOT_RUNNING",
                "Sandbox " + id + " is " + state.wireName().toLowerCase(Locale.ROOT)
                    + "; the execd API answers only while it is running.");
        }
    }

    /** A JSON body that may be absent: an empty object then. */
    private JsonNode optionalBody(Context ctx) {
        String length = ctx.header("Content-Length");
        if ((length == null || length.trim().equals("0")) && ctx.header("Transfer-Encoding") == null) {
            return json.createObjectNode();
        }
        try {
            return body(ctx);
        } catch (ExecdException e) {
            if (e.getMessage().endsWith("empty body")) {
                return json.createObjectNode();
            }
            throw e;
        }
    }

    private JsonNode body(Context ctx) {
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] bytes = in.readNBytes((int) MAX_JSON_BODY + 1);
            if (bytes.length > MAX_JSON_BODY) {
                throw ExecdException.badRequest("request body larger than " + MAX_JSON_BODY + " bytes");
            }
            JsonNode node = bytes.length == 0 ? null : json.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw ExecdException.badRequest("error parsing request, MAYBE invalid body format: empty body");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw ExecdException.badRequest("error parsing request, MAYBE invalid body format: " + e.getOriginalMessage());
        } catch (IOException | RuntimeException e) {
            // Jetty reports a body that breaks off or lies about its length with unchecked exceptions too.
            if (e instanceof ExecdException known) {
                throw known;
            }
            throw ExecdException.badRequest("error reading request body: " + e.getMessage());
        }
    }

    private static String text(JsonNode node, String field, boolean required) {
        JsonNode value = node == null ? null : node.get(field);
        if (value == null || value.isNull()) {
            if (required) {
                throw ExecdException.badRequest("invalid request, validation error: '" + field + "' is required");
            }
            return null;
        }
        if (!value.isTextual()) {
            throw ExecdException.badRequest("invalid request, validation error: '" + field + "' must be a string");
        }
        return value.asText();
    }

    private static Long integerField(JsonNode node, String field) {
        JsonNode value = node == null ? null : node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw ExecdException.badRequest("invalid request, validation error: '" + field + "' must be an integer");
        }
        return value.longValue();
    }

    private static Integer intField(JsonNode node, String field) {
        Long value = integerField(node, field);
        if (value != null && (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE)) {
            throw ExecdException.badRequest("invalid request, validation error: '" + field + "' is out of range");
        }
        return value == null ? null : value.intValue();
    }

    private static long longField(JsonNode node, String field) {
        Long value = integerField(node, field);
        return value == null ? 0 : value;
    }

    private static String requiredQuery(Context ctx, String name) {
        String value = ctx.queryParam(name);
        if (value == null || value.isBlank()) {
            throw ExecdException.missingQuery(name);
        }
        return value;
    }

    private static int intQuery(Context ctx, String name, int fallback) {
        long value = longQuery(ctx, name, fallback);
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw ExecdException.badRequest("query parameter '" + name + "' is out of range, got " + value);
        }
        return (int) value;
    }

    private static long longQuery(Context ctx, String name, long fallback) {
        String value = ctx.queryParam(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw ExecdException.badRequest("query parameter '" + name + "' must be a 64-bit integer, got " + value);
        }
    }

    private static ExecdException notFound(String method, String path) {
        return new ExecdException(404, ExecdException.NOT_FOUND, "no execd route for " + method + " /" + path);
    }

    private static void ok(Context ctx) {
        ctx.status(200);
        ctx.result("");
    }

    private void error(Context ctx, int status, String code, String message) {
        if (ctx.res().isCommitted()) {
            LOG.warn("execd: error after the response started ({} {}): {}", status, code, message);
            return;
        }
        ctx.status(status);
        ctx.json(Map.of("code", code, "message", message == null || message.isBlank() ? "execd request failed" : message));
    }
}
