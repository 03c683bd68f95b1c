package dev.opensandbox.core.service;

import java.util.List;
import java.util.stream.Collectors;

/** Formatting shared by the rule classes, kept identical to upstream's Python output. */
final class Messages {

    private Messages() {
    }

    /** Formats like Python's {@code repr(list_of_str)}, which upstream puts in messages: {@code ['a', 'b']}. */
    static String pythonList(List<String> values) {
        return values.stream().map(v -> "'" + v + "'").collect(Collectors.joining(", ", "[", "]"));
    }

    static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
