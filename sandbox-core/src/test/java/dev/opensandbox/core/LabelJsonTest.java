package dev.opensandbox.core;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LabelJsonTest {

    @Test
    void encodesCompactlyAsUpstreamDoes() {
        assertEquals("[\"sleep\",\"3600\"]", LabelJson.encode(List.of("sleep", "3600")));
        assertEquals("[]", LabelJson.encode(List.of()));
    }

    @Test
    void awkwardStringsRoundTrip() {
        List<String> values = List.of("sh", "-c", "echo \"quoted\" \\ back\nnew\ttab \u0001 ✓ 沙箱", "");
        assertEquals(Optional.of(values), LabelJson.decode(LabelJson.encode(values)));
    }

    @Test
    void decodesWhatPythonJsonDumpsWrites() {
        assertEquals(Optional.of(List.of("a b", "é")), LabelJson.decode("[\"a b\", \"\\u00e9\"]"));
    }

    @Test
    void rejectsWhatIsNotAnArrayOfStrings() {
        assertEquals(Optional.empty(), LabelJson.decode("sleep 3600"));
        assertEquals(Optional.empty(), LabelJson.decode("[1,2]"));
        assertEquals(Optional.empty(), LabelJson.decode("[\"a\"] x"));
        assertEquals(Optional.empty(), LabelJson.decode("[\"unterminated"));
        assertEquals(Optional.empty(), LabelJson.decode(null));
    }
}
