package dev.opensandbox.it.fuzz;

import java.util.ArrayList;
import java.util.List;

/**
 * The hostile values the fuzzer puts into requests: JSON values (as raw JSON text, not always
 * valid JSON), object keys, path segments, query values and file paths. Each list holds the
 * shapes that broke servers before (numbers past every integer type, NaN, 1e30, control
 * characters and NUL, lone surrogates, deep nesting, duplicate keys, encoded newlines) beside
 * ordinary ones, so that most mutations stay close to a valid request.
 */
final class Values {

    private Values() {
    }

    /** The marker every injected line break is followed by: a log line starting with it was forged. */
    static final String FORGED = "FORGED";

    static String repeat(String unit, int times) {
        return unit.repeat(times);
    }

    static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || (c >= 0xd800 && c <= 0xdfff)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /** Numbers as JSON text, including the ones JSON parsers and 64-bit fields disagree about. */
    static final List<String> NUMBERS = List.of(
        "0", "-1", "1", "7", "-0", "0.5", "-0.0", "1e30", "-1e30", "9e18", "1e19", "1.5e15", "1e-30", "1E400",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "2147483648", "-2147483649",
        "99999999999999999999999999999999", "3.0", "1e3", "NaN", "Infinity", "-Infinity", "0x10", "01", "+1", ".5");

    /** Strings that tend to hit parsers, validators, the engine, shells and log lines (as text). */
    static final List<String> TEXTS;

    /** {@link #TEXTS} as JSON strings. */
    static final List<String> STRINGS;

    static {
        List<String> strings = new ArrayList<>(List.of(
            "", " ", "7", "0", "-1", "1e30", "abc", "\u0000", "a\u0000b", "\n", "\t", "\u001b[31mred\u001b[0m",
            "\u202etxt.exe", "\ud83d\ude00", "\ud800", "\udfff", "\u65e5\u672c\u8a9e", "\u00fc\u00f1\u00ee",
            "/proc", "/", "../../../etc/shadow", "/tmp:/host:rw", "a:b", "C:\\Windows", "%00", "%0a", "${jndi:ldap://127.0.0.1/x}",
            "$(id)", "`id`", "'; DROP TABLE sandboxes; --", "<script>alert(1)</script>",
            "2400-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
            "+49503-02-10T02:40:00Z", "2030-02-30T00:00:00Z", "2031-01-01T25:00:00Z", "2031-01-01T00:00:00+99:00",
            "-1Gi", "100000000000Gi", "9999999999999999999999Gi", "1.5.5", "500m", "0m", "-500m", "1e400", "NaN",
            "Infinity", "0x10", "true", "null"));
        strings.add(repeat("a", 256));
        strings.add(repeat("a", 70_000));
        strings.add("x\n" + FORGED + " INFO injected line");
        strings.add("x\r\n" + FORGED + " INFO injected line");
        TEXTS = List.copyOf(strings);
        STRINGS = strings.stream().map(Values::quote).toList();
    }

    /** Other JSON shapes: null, booleans, containers, deep nesting, duplicate keys. */
    static final List<String> SHAPES = List.of(
        "null", "true", "false", "[]", "[\"\"]", "[null]", "[1]", "[\"a\",{}]", "{}", "{\"\":\"x\"}", "{\"a\":null}",
        "{\"a\":{\"b\":[]}}", "{\"a\":1,\"a\":2}", repeat("[", 5000) + repeat("]", 5000),
        repeat("{\"a\":", 2000) + "1" + repeat("}", 2000), "[" + repeat("1,", 20_000) + "1]");

    /** Every JSON value the mutator may put in place of a field. */
    static final List<String> JSON_VALUES;

    static {
        List<String> all = new ArrayList<>(NUMBERS);
        all.addAll(STRINGS);
        all.addAll(SHAPES);
        JSON_VALUES = List.copyOf(all);
    }

    /** Object keys (JSON-quoted): empty, with '=', NUL, control characters, very long, reserved prefixes. */
    static final List<String> KEYS = List.of("", "A=B", "A\u0000B", "\u0000", "1ABC", "PATH", "a b", "\n" + FORGED,
        "opensandbox.io/id", "opensandbox.io/expires-at", "\u00fc", "\ud800", repeat("K", 300), repeat("K", 70_000),
        "LD_PRELOAD", "-").stream().map(Values::quote).toList();

    /** Whole bodies that are not the expected object. */
    static final List<String> WHOLE_BODIES = List.of("", " ", "null", "[]", "\"x\"", "1", "true", "{", "}", "{\"a\":",
        "{\"a\" 1}", "{'a':1}", "\ufeff{}", "{}garbage", "{} {}", "[{}]", "\u0000", repeat(" ", 100_000),
        repeat("[", 100_000), "{\"image\":{\"uri\":\"x\"},}", "NaN", "--boundary\r\n\r\n");

    /** Path segments for ids, already percent-encoded where they must be (the fuzzer sends them as they are). */
    static final List<String> BAD_IDS = List.of("00000000-0000-0000-0000-000000000000", "not-a-uuid", "%0a" + FORGED + "-id",
        "x%0d%0a" + FORGED + "-crlf", "%00", "..", "%2e%2e", ".", "%2F", "%2f..%2f..%2fetc", "%ZZ", "%", "%E2%80%AE",
        "%C0%AF", "%20", "+", "~", "%7B%7D", "ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ", repeat("a", 300), repeat("a", 7000),
        "%F0%9F%98%80", "%ud800", "*", "null", "0", "-1", "%3B", "%3F", "%23");

    /** Port path parameters. */
    static final List<String> PORTS = List.of("44772", "8080", "80", "1", "65535", "0", "65536", "-1",
        "99999999999999999999", "abc", "%0a" + FORGED + "-port", "08080", "+80", "%2080", "1e3", "44772.0", "");

    /** Integer-ish query values. */
    static final List<String> QUERY_NUMBERS = List.of("-1", "0", "1", "2", "50", "200", "201", "500", "501", "10000",
        "10001", "99999999999999999999", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "1e3", "1.5", "abc", "", "%205%20", "0x10", "NaN", "%00", "%0a" + FORGED + "-q", "true");

    /** {@code since} values of the log routes. */
    static final List<String> SINCE = List.of("10s", "5m", "1h", "2d", "0s", "-1s", "1x", "1.5h", "", "s",
        "99999999999999999999s", "9223372036854775807d", "9223372036854775807s", "106751991167301d", "99999999999999999999d",
        "%0a" + FORGED + "s", "1h%00", "%20%201m");

    static final List<String> BOOLEANS = List.of("true", "false", "True", "FALSE", "1", "0", "yes", "no", "2", "",
        "null", "%00");

    static final List<String> STATES = List.of("Running", "running", "Paused", "Terminated", "Pending", "Ready",
        "Creating", "Failed", "", "Bogus", "%0a" + FORGED + "-state", repeat("R", 5000));

    static final List<String> METADATA_FILTERS = List.of("fuzz%3D1", "a%3Db%26c%3Dd", "a", "%3D", "%26%26",
        "%25ZZ%3D1", "a%3Db%26c", "%3Db", "a%3D", repeat("k", 4000) + "%3Dv", "%0a" + FORGED + "%3D1");

    /**
     * File paths for execd routes that change files: they stay below {@code /tmp/fuzz} (or cannot
     * name a file at all), so that the fuzzer never breaks the sandbox's own shell and tools.
     */
    static final List<String> WRITABLE_PATHS = List.of("/tmp/fuzz/a.txt", "/tmp/fuzz/missing", "/tmp/fuzz/d",
        "/tmp/fuzz/d/e/f", "", " ", "/tmp/fuzz/../fuzz/a.txt", "/tmp/fuzz/\u0000x", "/tmp/fuzz/" + repeat("n", 300),
        "/tmp/fuzz/" + repeat("n", 5000), "/tmp/fuzz/\u00fc\u00f1\u00ee", "/tmp/fuzz/a b", "/tmp/fuzz/$(id)",
        "/tmp/fuzz/;ls", "/tmp/fuzz/'q", "/tmp/fuzz/\"q", "/tmp/fuzz/*", "-rf", "--", "/tmp/fuzz/\n" + FORGED,
        "/tmp/fuzz/%2e%2e", "/tmp/fuzz/a.txt/", "relative/x.txt");

    /** File paths for execd routes that only read: anything, the system's own files included. */
    static final List<String> READABLE_PATHS;

    static {
        List<String> paths = new ArrayList<>(WRITABLE_PATHS);
        paths.addAll(List.of("/", "/etc/passwd", "/etc", "/proc/self/status", "../..", "/root", "/nonexistent/x", "~",
            "/tmp/fuzz", "/bin/sh"));
        READABLE_PATHS = List.copyOf(paths);
    }

    /** Commands for execd: short, harmless inside the sandbox, hostile to quoting and output handling. */
    static final List<String> COMMANDS = List.of("echo fuzz", "ls /tmp", "cat /etc/hostname", "exit 3", "true",
        "printf 'a\\000b'", "echo $HOME", "pwd", "env", "echo '", "echo \"unterminated", "$(echo hi)", "`echo hi`",
        "", " ", "\u0000", "echo \u00fc\u00f1\u00ee \ud83d\ude00", "echo " + repeat("a", 70_000), "nonexistent-command",
        "cat /nonexistent", "echo x >&2", "printf '\\033[2J'", "echo a; echo b", "echo line\n" + FORGED,
        "head -c 300000 /dev/zero", "seq 1 2000");
}
