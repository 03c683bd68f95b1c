package dev.opensandbox.server.execd;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns one output stream's byte chunks into text without splitting a UTF-8 character that
 * straddles two chunks: the incomplete tail waits for the next chunk. Invalid bytes become
 * U+FFFD. Not thread-safe; one per stream.
 */
final class OutputDecoder {

    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer pending = ByteBuffer.allocate(0);

    String decode(byte[] data, int offset, int length) {
        ByteBuffer input = ByteBuffer.allocate(pending.remaining() + length);
        input.put(pending).put(data, offset, length).flip();
        CharBuffer out = CharBuffer.allocate(input.remaining() + 1);
        CoderResult result = decoder.decode(input, out, false);
        if (result.isError()) {
            throw new IllegalStateException("REPLACE decoder reported " + result);
        }
        pending = input.slice();
        return out.flip().toString();
    }

    /** What is left at the end of the stream (an incomplete character becomes U+FFFD). */
    String finish() {
        CharBuffer out = CharBuffer.allocate(pending.remaining() + 2);
        decoder.decode(pending, out, true);
        decoder.flush(out);
        pending = ByteBuffer.allocate(0);
        return out.flip().toString();
    }
}
