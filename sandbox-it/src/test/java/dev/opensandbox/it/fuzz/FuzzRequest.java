package dev.opensandbox.it.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One generated HTTP request, exactly as it goes on the wire. Targets, headers and bodies may hold
 * fixture tokens such as {@code {{running}}} (see {@link FuzzedServer#resolve}) that name the
 * server's pre-created sandboxes; {@link #toString} prints the request with its tokens, the
 * failure report prints it resolved.
 *
 * @param family    which property made it (for the run's statistics)
 * @param method    the request method, sent as is
 * @param target    the request target (path and query), percent-encoded as the fuzzer chose
 * @param headers   headers in order, repeats allowed; the client adds Host, the API key is among them
 * @param body      the body bytes; empty for none
 * @param framing   how the body is framed (a raw socket sends everything but {@link Framing#LENGTH} and
 *                  {@link Framing#CHUNKED})
 * @param version   the protocol token of the request line
 * @param raw       forces the raw socket (request lines, line ends or headers the HTTP client cannot send)
 * @param malformed the request breaks HTTP/1.1 itself, so closing the connection without an answer is allowed
 */
record FuzzRequest(String family, String method, String target, List<Header> headers, byte[] body, Framing framing,
                   String version, boolean raw, boolean malformed) {

    /** One header line; names and values are sent byte for byte. */
    record Header(String name, String value) {
    }

    /** Body framing; all but {@link #LENGTH} and {@link #CHUNKED} break the framing rules on purpose. */
    enum Framing {
        /** Content-Length matches the body (none for an empty body). */
        LENGTH,
        /** Transfer-Encoding: chunked, in chunks of at most 1,000 bytes. */
        CHUNKED,
        /** Content-Length 100 bytes more than sent, then the client half-closes: the body ends early. */
        LENGTH_TOO_LONG,
        /** Content-Length half of what is sent: the rest looks like a next request. */
        LENGTH_TOO_SHORT,
        /** Chunked with a chunk size that is not hexadecimal. */
        CHUNK_SIZE_NOT_HEX,
        /** Chunked without the last chunk, then the client half-closes. */
        CHUNKS_UNTERMINATED,
        /** Both Content-Length and Transfer-Encoding: chunked (request smuggling shape). */
        LENGTH_AND_CHUNKED,
        /** Two Content-Length headers with different values. */
        TWO_LENGTHS
    }

    private static final Pattern PROXY = Pattern.compile("^(?:/v1)?/sandboxes/[^/?]+/proxy/([^/?]*)(.*)$");

    static FuzzRequest of(String family, String method, String target, List<Header> headers, String body) {
        return new FuzzRequest(family, method, target, List.copyOf(headers),
            body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8), Framing.LENGTH, "HTTP/1.1", false, false);
    }

    FuzzRequest withHeaders(List<Header> newHeaders) {
        return new FuzzRequest(family, method, target, List.copyOf(newHeaders), body, framing, version, raw, malformed);
    }

    FuzzRequest withHeader(String name, String value) {
        List<Header> more = new ArrayList<>(headers);
        more.add(new Header(name, value));
        return withHeaders(more);
    }

    /** The same request without any header of that name (case-insensitive). */
    FuzzRequest withoutHeader(String name) {
        return withHeaders(headers.stream().filter(h -> !h.name().equalsIgnoreCase(name)).toList());
    }

    FuzzRequest withFraming(Framing newFraming, boolean isMalformed) {
        return new FuzzRequest(family, method, target, headers, body, newFraming, version, raw, malformed || isMalformed);
    }

    FuzzRequest withBody(byte[] newBody) {
        return new FuzzRequest(family, method, target, headers, newBody, framing, version, raw, malformed);
    }

    FuzzRequest withMethod(String newMethod) {
        return new FuzzRequest(family, newMethod, target, headers, body, framing, version, raw, malformed);
    }

    FuzzRequest withTarget(String newTarget) {
        return new FuzzRequest(family, method, newTarget, headers, body, framing, version, raw, malformed);
    }

    FuzzRequest withFamily(String newFamily) {
        return new FuzzRequest(newFamily, method, target, headers, body, framing, version, raw, malformed);
    }

    /** Over the raw socket, with the given request-line protocol token; malformed if it breaks HTTP/1.1. */
    FuzzRequest overRawSocket(String newVersion, boolean isMalformed) {
        return new FuzzRequest(family, method, target, headers, body, framing, newVersion, true, malformed || isMalformed);
    }

    /**
     * Whether a refusal of this request may reach the client as a reset: beyond the header limits
     * (below), or with a body larger than a socket buffer, which the server does not read to the end
     * before it refuses the request and closes the connection.
     */
    boolean mayBeResetByAnEarlyClose() {
        return beyondTheHeaderLimits() || (body != null && body.length > 64 * 1024);
    }

    /**
     * Whether the request line or the header section is larger than the server reads (8 KiB each):
     * the server then answers 414 or 431 before it has read the rest and closes the connection, and
     * closing a socket with unread input makes the kernel reset it, which may destroy the answer
     * before the client reads it (a property of TCP, not of the server). Such a request may end in
     * no answer or an answer cut short; a complete answer must still follow the rules.
     */
    boolean beyondTheHeaderLimits() {
        int headerBytes = 0;
        for (Header header : headers) {
            headerBytes += header.name().length() + header.value().length() + 4;
        }
        // The client adds headers of its own (Host, Content-Length, User-Agent...): leave them 1 KiB.
        return target.length() > 8 * 1024 || target.length() + headerBytes > 7 * 1024;
    }

    /** Whether the sandbox port in a proxy target is one whose backend is the sandbox's own (not the built-in execd). */
    boolean proxiesToBackend() {
        Matcher m = PROXY.matcher(target);
        return m.matches() && !m.group(1).equals("44772");
    }

    /** Whether the target is the built-in execd API of some sandbox (port 44772 of the proxy). */
    boolean isExecd() {
        Matcher m = PROXY.matcher(target);
        return m.matches() && m.group(1).equals("44772");
    }

    String path() {
        int query = target.indexOf('?');
        return query < 0 ? target : target.substring(0, query);
    }

    String header(String name) {
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                return header.value();
            }
        }
        return null;
    }

    boolean isHead() {
        return method.toUpperCase(Locale.ROOT).equals("HEAD");
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        out.append(printable(method, 200)).append(' ').append(printable(target, 400)).append(' ').append(printable(version, 40));
        out.append("   [").append(raw ? "raw socket" : "HttpClient (raw socket if it refuses)").append(", framing ")
            .append(framing).append(malformed ? ", malformed on purpose" : "").append(", family ").append(family).append("]\n");
        for (Header header : headers) {
            out.append(printable(header.name(), 200)).append(": ").append(printable(header.value(), 300)).append('\n');
        }
        out.append('\n').append(printable(new String(body, StandardCharsets.UTF_8), 1500));
        if (body.length > 0) {
            out.append("\n(").append(body.length).append(" body bytes)");
        }
        return out.toString();
    }

    /** Text with control characters shown as escapes and long runs cut, so a report is readable and exact. */
    static String printable(String text, int limit) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length() && out.length() < limit; i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                out.append("\\\\");
            } else if (c < 0x20 || c == 0x7f || (c >= 0xd800 && c <= 0xdfff && !pairAt(text, i))) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (out.length() >= limit && text.length() > limit) {
            out.append("...(").append(text.length()).append(" chars in all)");
        }
        return out.toString();
    }

    private static boolean pairAt(String text, int i) {
        char c = text.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(text.charAt(i - 1));
    }
}
