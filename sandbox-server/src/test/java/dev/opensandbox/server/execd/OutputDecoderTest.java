package dev.opensandbox.server.execd;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OutputDecoderTest {

    @Test
    void aCharacterSplitAcrossChunksIsDecodedWhole() {
        byte[] euro = "a€b".getBytes(StandardCharsets.UTF_8); // € is three bytes
        OutputDecoder decoder = new OutputDecoder();
        assertEquals("a", decoder.decode(euro, 0, 2));
        assertEquals("", decoder.decode(euro, 2, 1));
        assertEquals("€b", decoder.decode(euro, 3, 2));
        assertEquals("", decoder.finish());
    }

    @Test
    void invalidAndTruncatedBytesBecomeReplacementCharacters() {
        OutputDecoder decoder = new OutputDecoder();
        assertEquals("x\uFFFDy", decoder.decode(new byte[] {'x', (byte) 0xff, 'y'}, 0, 3));
        assertEquals("", decoder.decode(new byte[] {(byte) 0xe2, (byte) 0x82}, 0, 2));
        assertEquals("\uFFFD", decoder.finish(), "an incomplete character at the end of the stream");
    }
}
