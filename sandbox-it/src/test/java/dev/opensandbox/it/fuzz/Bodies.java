package dev.opensandbox.it.fuzz;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Valid bodies of every route that takes one, and which values the mutator may put where: most
 * fields take any hostile value of {@link Values}, but some are held to safe families, so that
 * the fuzzer stays inside what the test owns — image names that cannot start a pull from a
 * registry on the real engine, volume names with this run's prefix, file paths below
 * {@code /tmp/fuzz}, commands that end by themselves.
 */
final class Bodies {

    /** How far the mutator may go on this server. */
    record Scope(boolean realEngine, String image, String run) {
        String volumePrefix() {
            return "fuzz-" + run.substring(0, 8);
        }
    }

    /**
     * A body template.
     *
     * @param json      the valid body, with fixture tokens
     * @param values    per pointer ({@code *suffix} matches any pointer ending so): the only raw JSON values allowed
     *                  there, instead of {@link Values#JSON_VALUES}
     * @param preferred per pointer: values that matter to that field (tried three times as often as the generic ones)
     * @param rootKeys  raw JSON keys that may be added to the root object besides {@link Values#KEYS}
     * @param pathKeyed the root's keys are file paths (permissions, replace, directories): added keys are writable paths
     */
    record Template(String name, JsonNode json, Map<String, List<String>> values, Map<String, List<String>> preferred,
                    List<String> rootKeys, boolean pathKeyed) {

        Template(String name, JsonNode json, Map<String, List<String>> values, List<String> rootKeys, boolean pathKeyed) {
            this(name, json, values, Map.of(), rootKeys, pathKeyed);
        }

        /** Whether only {@link #valuesAt} may go there (the generic values could leave what the test owns). */
        boolean restricted(String pointer) {
            return values.keySet().stream().anyMatch(at -> matches(at, pointer));
        }

        List<String> preferredAt(String pointer) {
            return preferred.getOrDefault(pointer, List.of());
        }

        private static boolean matches(String at, String pointer) {
            return at.startsWith("*") ? pointer.endsWith(at.substring(1)) : pointer.equals(at);
        }

        List<String> valuesAt(String pointer) {
            for (Map.Entry<String, List<String>> entry : values.entrySet()) {
                if (matches(entry.getKey(), pointer)) {
                    return entry.getValue();
                }
            }
            return Values.JSON_VALUES;
        }

        List<String> keysAt(String pointer) {
            if (pathKeyed && pointer.isEmpty()) {
                return quoted(Values.WRITABLE_PATHS);
            }
            List<String> keys = new ArrayList<>(Values.KEYS);
            JsonNode target = json.at(pointer);
            target.fieldNames().forEachRemaining(existing -> keys.add(Values.quote(existing)));
            if (pointer.isEmpty()) {
                keys.addAll(rootKeys);
            }
            return keys;
        }
    }

    /**
     * Values the engine itself refuses or misreads, per field of a create (memory "7", an empty
     * argv element, a NUL in an environment value, a mount on /proc or with a colon): a server must
     * refuse them with a 4xx before asking the engine.
     */
    static final Map<String, List<String>> ENGINE_CHECKED = Map.of(
        "/resourceLimits/memory", quoted(List.of("7", "0", "-1", "1", "1e30", "100000000000Gi", "9223372036854775807",
            "18446744073709551616", "64MiB", "64 Mi", "0.5Mi", "1Ki", "64mi", "Mi", "")),
        "/resourceLimits/cpu", quoted(List.of("0", "-1", "0m", "1e30", "100000000", "99999999999999999999m", "0.0001",
            "1.5.5", "500mm", "m", "", "NaN")),
        "/entrypoint", List.of("[\"\"]", "[]", "[\"\\u0000\"]", "[\"sleep\\u0000\",\"1\"]", "[\" \"]", "[\"/proc\"]",
            "[\"sleep\",\"\"]", "[null]", "[\"" + Values.repeat("a", 70_000) + "\"]"),
        "/entrypoint/0", quoted(List.of("", "\u0000", " ", "/nonexistent", "/proc", "-")),
        "/env", List.of("{\"\":\"x\"}", "{\"A=B\":\"x\"}", "{\"A\":\"a\\u0000b\"}", "{\"\\u0000\":\"x\"}",
            "{\"A B\":\"x\"}", "{\"PATH\":\"\"}", "{\"A\":null}", "{\"" + Values.repeat("K", 70_000) + "\":\"v\"}"),
        "/env/FUZZ", quoted(List.of("a\u0000b", "\u0000", "line\nbreak", Values.repeat("v", 200_000))),
        "/volumes/0/mountPath", quoted(List.of("/proc", "/", "/sys", "/dev", "relative", "/a:b", "/data:ro", "/tmp:/host:rw",
            "", " ", "/data/../..", "/\u0000", "/" + Values.repeat("m", 5000))),
        "/volumes/0/name", quoted(List.of("", "a b", "UPPER", "../x", "a:b", Values.repeat("n", 300))),
        "/timeout", List.of("0", "-1", "1", "1e30", "9e18", "9223372036854775807", "10000000000", "315360000000", "1.5", "\"60\""));

    private final Scope scope;

    Bodies(Scope scope) {
        this.scope = scope;
    }

    static List<String> quoted(List<String> texts) {
        return texts.stream().map(Values::quote).toList();
    }

    private static List<String> plus(List<String> first, List<String> second) {
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        return List.copyOf(all);
    }

    /** Image references the engine rejects without asking a registry; on the in-memory runtime anything goes. */
    private List<String> imageValues() {
        List<String> invalid = quoted(List.of("", " ", "UPPER/Case:latest", "a b", "::", "%", "\u0000", "a\nb",
            Values.repeat("a", 300), Values.repeat("a/", 200) + "a", "x@sha256:zz", "-leading-dash"));
        if (scope.realEngine()) {
            return plus(invalid, quoted(List.of(scope.image())));
        }
        return plus(invalid, plus(Values.JSON_VALUES, quoted(List.of("nonexistent.invalid/image:latest"))));
    }

    private List<String> volumeNames() {
        String prefix = scope.volumePrefix();
        return quoted(List.of(prefix + "-vol", prefix + "-other", prefix + "-" + Values.repeat("v", 300), "", " ",
            "a b", "/abs", "..", prefix + "/x", prefix + ":x", "\u0000", prefix + "-\u00fc"));
    }

    Template template(String name) {
        String image = scope.image();
        String volume = scope.volumePrefix() + "-vol";
        return switch (name) {
            case "create" -> new Template(name, JsonBody.parse("{\"image\":{\"uri\":\"" + image + "\"},"
                + "\"entrypoint\":[\"sleep\",\"3600\"],\"timeout\":600,"
                + "\"resourceLimits\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},\"env\":{\"FUZZ\":\"1\"},"
                + "\"metadata\":{\"fuzz-run\":\"" + scope.run() + "\"},"
                + "\"volumes\":[{\"name\":\"data\",\"mountPath\":\"/data\",\"pvc\":{\"claimName\":\"" + volume + "\","
                + "\"createIfNotExists\":true,\"deleteOnSandboxTermination\":true}}],\"secureAccess\":false}"),
                Map.of("/image/uri", imageValues(), "/volumes/0/pvc/claimName", volumeNames()),
                ENGINE_CHECKED,
                quoted(scope.realEngine()
                    ? List.of("networkPolicy", "snapshotId", "credentialProxy", "extensions", "resourceRequests")
                    : List.of("networkPolicy", "snapshotId", "credentialProxy", "extensions", "resourceRequests", "platform")),
                false);
            case "metadata" -> new Template(name, JsonBody.parse("{\"team\":\"fuzz\",\"gone\":null}"), Map.of(), List.of(), false);
            case "renew" -> new Template(name, JsonBody.parse("{\"expiresAt\":\"{{future}}\"}"), Map.of(), List.of(), false);
            case "snapshot" -> new Template(name, JsonBody.parse("{\"name\":\"fuzz-snap\"}"), Map.of(), List.of(), false);
            case "pool" -> new Template(name, JsonBody.parse("{\"name\":\"fuzz-pool\",\"template\":{\"spec\":{}},"
                + "\"capacitySpec\":{\"bufferMax\":1,\"bufferMin\":0,\"poolMax\":2,\"poolMin\":0}}"), Map.of(), List.of(), false);
            case "capacity" -> new Template(name, JsonBody.parse(
                "{\"capacitySpec\":{\"bufferMax\":1,\"bufferMin\":0,\"poolMax\":2,\"poolMin\":0}}"), Map.of(), List.of(), false);
            case "command" -> new Template(name, JsonBody.parse("{\"command\":\"echo fuzz\",\"cwd\":\"/tmp\","
                + "\"background\":false,\"timeout\":10000,\"envs\":{\"FUZZ\":\"1\"}}"),
                Map.of("/command", plus(quoted(Values.COMMANDS), Values.JSON_VALUES)), quoted(List.of("uid", "gid")), false);
            case "session" -> new Template(name, JsonBody.parse("{\"cwd\":\"/tmp\"}"), Map.of(), List.of(), false);
            case "sessionRun" -> new Template(name, JsonBody.parse("{\"command\":\"echo s\",\"cwd\":\"/tmp\",\"timeout\":10000}"),
                Map.of("/command", plus(quoted(Values.COMMANDS), Values.JSON_VALUES)), List.of(), false);
            case "permissions" -> new Template(name, JsonBody.parse(
                "{\"/tmp/fuzz/a.txt\":{\"mode\":644,\"owner\":\"root\",\"group\":\"root\"}}"), Map.of(), List.of(), true);
            case "move" -> new Template(name, JsonBody.parse("[{\"src\":\"/tmp/fuzz/a.txt\",\"dest\":\"/tmp/fuzz/b.txt\"}]"),
                Map.of("*/src", quoted(Values.WRITABLE_PATHS), "*/dest", quoted(Values.WRITABLE_PATHS),
                    "", plus(Values.SHAPES, quoted(List.of("x")))), List.of(), false);
            case "replace" -> new Template(name, JsonBody.parse("{\"/tmp/fuzz/a.txt\":{\"old\":\"a\",\"new\":\"b\"}}"),
                Map.of(), List.of(), true);
            case "directories" -> new Template(name, JsonBody.parse("{\"/tmp/fuzz/d\":{\"mode\":755}}"), Map.of(), List.of(), true);
            case "any" -> new Template(name, JsonBody.parse("{\"hello\":\"world\"}"), Map.of(), List.of(), false);
            default -> throw new IllegalArgumentException("no body template " + name);
        };
    }
}
