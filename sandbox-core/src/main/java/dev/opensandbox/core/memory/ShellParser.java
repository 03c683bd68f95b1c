package dev.opensandbox.core.memory;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses the shell subset {@link MiniShell} runs: simple commands joined by {@code ;}, newlines,
 * {@code &&} and {@code ||}; words with single quotes, double quotes, backslash escapes and
 * {@code $NAME}/{@code ${NAME}}/{@code $?}; output redirections {@code >}, {@code >>},
 * {@code 2>}, {@code >&2}, {@code 2>&1}; {@code #} comments.
 *
 * <p>Pipes, background jobs, input redirection, command substitution and compound commands are
 * rejected with a {@link SyntaxException} instead of being misread: a test that needs them should
 * fail loudly, not pass by accident.
 */
final class ShellParser {

    /** When a step runs, given the status of the step before it. */
    enum Connector { ALWAYS, IF_SUCCESS, IF_FAILURE }

    /** A piece of a word. Quoted text and quoted variables are never split into fields. */
    sealed interface Part permits Text, Var {
    }

    record Text(String text, boolean quoted) implements Part {
    }

    record Var(String name, boolean quoted) implements Part {
    }

    record Word(List<Part> parts) {
        Word {
            parts = List.copyOf(parts);
        }
    }

    sealed interface Redirect permits ToFile, Dup {
    }

    /** {@code fd>target} or {@code fd>>target}. */
    record ToFile(int fd, boolean append, Word target) implements Redirect {
    }

    /** {@code fd>&toFd}. */
    record Dup(int fd, int toFd) implements Redirect {
    }

    record Command(List<Word> words, List<Redirect> redirects) {
        Command {
            words = List.copyOf(words);
            redirects = List.copyOf(redirects);
        }
    }

    record Step(Connector connector, Command command) {
    }

    /** The script is outside the supported subset or malformed; the shell exits 2 as sh does. */
    static final class SyntaxException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SyntaxException(String message) {
            super(message, null, false, false);
        }
    }

    private static final String OPERATOR_CHARS = ";&|<>\n()`";

    private final String src;
    private int pos;

    private ShellParser(String src) {
        this.src = src;
    }

    static List<Step> parse(String script) {
        return new ShellParser(script).steps();
    }

    private List<Step> steps() {
        List<Step> steps = new ArrayList<>();
        Connector connector = Connector.ALWAYS;
        List<Word> words = new ArrayList<>();
        List<Redirect> redirects = new ArrayList<>();
        while (true) {
            skipBlanks();
            if (pos >= src.length()) {
                break;
            }
            char c = src.charAt(pos);
            if (c == '#') {
                while (pos < src.length() && src.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (c == ';' || c == '\n' || startsWith("&&") || startsWith("||")) {
                Connector next = c == ';' || c == '\n' ? Connector.ALWAYS
                    : c == '&' ? Connector.IF_SUCCESS : Connector.IF_FAILURE;
                pos += next == Connector.ALWAYS ? 1 : 2;
                boolean empty = words.isEmpty() && redirects.isEmpty();
                // Blank lines are fine anywhere, even after "&&"; other separators need a command before them.
                if (empty && c != '\n' && (next != Connector.ALWAYS || connector != Connector.ALWAYS)) {
                    throw new SyntaxException("unexpected \"" + (next == Connector.ALWAYS ? ";" : c + "" + c) + "\"");
                }
                if (!empty) {
                    steps.add(new Step(connector, new Command(words, redirects)));
                    words = new ArrayList<>();
                    redirects = new ArrayList<>();
                    connector = next;
                }
            } else if (c == '>' || ((c == '1' || c == '2') && startsWith(c + ">"))) {
                redirects.add(redirect());
            } else if (c == '|') {
                throw new SyntaxException("pipes are not supported");
            } else if (c == '&') {
                throw new SyntaxException("background jobs are not supported");
            } else if (c == '<') {
                throw new SyntaxException("input redirection is not supported");
            } else if (c == '(' || c == ')') {
                throw new SyntaxException("subshells are not supported");
            } else {
                words.add(word());
            }
        }
        if (!words.isEmpty() || !redirects.isEmpty()) {
            steps.add(new Step(connector, new Command(words, redirects)));
        } else if (connector != Connector.ALWAYS) {
            throw new SyntaxException("unexpected end of file");
        }
        return steps;
    }

    private Redirect redirect() {
        int fd = src.charAt(pos) == '>' ? 1 : src.charAt(pos++) - '0';
        pos++; // the '>'
        boolean append = pos < src.length() && src.charAt(pos) == '>';
        if (append) {
            pos++;
        }
        if (!append && pos < src.length() && src.charAt(pos) == '&') {
            pos++;
            if (pos < src.length() && (src.charAt(pos) == '1' || src.charAt(pos) == '2')) {
                return new Dup(fd, src.charAt(pos++) - '0');
            }
            throw new SyntaxException("only >&1 and >&2 are supported");
        }
        skipBlanks();
        if (pos >= src.length() || OPERATOR_CHARS.indexOf(src.charAt(pos)) >= 0) {
            throw new SyntaxException("missing redirection target");
        }
        return new ToFile(fd, append, word());
    }

    private Word word() {
        List<Part> parts = new ArrayList<>();
        StringBuilder raw = new StringBuilder();
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == ' ' || c == '\t' || OPERATOR_CHARS.indexOf(c) >= 0) {
                if (c == '`') {
                    throw new SyntaxException("command substitution is not supported");
                }
                break;
            }
            if (c == '\'') {
                flush(raw, parts);
                int close = src.indexOf('\'', pos + 1);
                if (close < 0) {
                    throw new SyntaxException("unterminated quoted string");
                }
                parts.add(new Text(src.substring(pos + 1, close), true));
                pos = close + 1;
            } else if (c == '"') {
                flush(raw, parts);
                pos++;
                doubleQuoted(parts);
            } else if (c == '\\') {
                // An escaped character is literal; a raw part is never field-split, so appending is enough.
                if (pos + 1 < src.length() && src.charAt(pos + 1) != '\n') {
                    raw.append(src.charAt(pos + 1));
                }
                pos += 2;
            } else if (c == '$') {
                flush(raw, parts);
                Part part = dollar(false);
                if (part instanceof Text text) {
                    raw.append(text.text());
                } else {
                    parts.add(part);
                }
            } else {
                raw.append(c);
                pos++;
            }
        }
        flush(raw, parts);
        return new Word(parts);
    }

    private void doubleQuoted(List<Part> parts) {
        StringBuilder text = new StringBuilder();
        while (true) {
            if (pos >= src.length()) {
                throw new SyntaxException("unterminated quoted string");
            }
            char c = src.charAt(pos);
            if (c == '"') {
                pos++;
                // Always add the text, even empty: "" is an empty argument, not no argument.
                parts.add(new Text(text.toString(), true));
                return;
            }
            if (c == '\\' && pos + 1 < src.length() && "$`\"\\\n".indexOf(src.charAt(pos + 1)) >= 0) {
                if (src.charAt(pos + 1) != '\n') {
                    text.append(src.charAt(pos + 1));
                }
                pos += 2;
            } else if (c == '`') {
                throw new SyntaxException("command substitution is not supported");
            } else if (c == '$') {
                Part part = dollar(true);
                if (part instanceof Text literal) {
                    text.append(literal.text());
                } else {
                    parts.add(new Text(text.toString(), true));
                    text.setLength(0);
                    parts.add(part);
                }
            } else {
                text.append(c);
                pos++;
            }
        }
    }

    /** Reads what follows a {@code $}: a variable, or a literal dollar sign. */
    private Part dollar(boolean quoted) {
        pos++;
        if (pos >= src.length()) {
            return new Text("$", quoted);
        }
        char c = src.charAt(pos);
        if (c == '{') {
            int close = src.indexOf('}', pos);
            if (close < 0) {
                throw new SyntaxException("missing '}'");
            }
            String name = src.substring(pos + 1, close);
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*|\\?|[0-9]")) {
                throw new SyntaxException("unsupported parameter expansion ${" + name + "}");
            }
            pos = close + 1;
            return new Var(name, quoted);
        }
        if (c == '(') {
            throw new SyntaxException("command substitution is not supported");
        }
        if (c == '?' || Character.isDigit(c)) {
            pos++;
            return new Var(String.valueOf(c), quoted);
        }
        if (c == '_' || Character.isLetter(c)) {
            int start = pos;
            while (pos < src.length() && (src.charAt(pos) == '_' || Character.isLetterOrDigit(src.charAt(pos)))) {
                pos++;
            }
            return new Var(src.substring(start, pos), quoted);
        }
        return new Text("$", quoted);
    }

    private static void flush(StringBuilder raw, List<Part> parts) {
        if (raw.length() > 0) {
            parts.add(new Text(raw.toString(), false));
            raw.setLength(0);
        }
    }

    private void skipBlanks() {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == ' ' || c == '\t') {
                pos++;
            } else if (c == '\\' && pos + 1 < src.length() && src.charAt(pos + 1) == '\n') {
                pos += 2;
            } else {
                return;
            }
        }
    }

    private boolean startsWith(String token) {
        return src.startsWith(token, pos);
    }
}
