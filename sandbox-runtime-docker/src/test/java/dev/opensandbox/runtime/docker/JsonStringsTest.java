package dev.opensandbox.runtime.docker;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonStringsTest {

    @Test
    void encodesCompactlyAsUpstreamDoes() {
        assertEquals("[\"sleep\",\"3600\"]", JsonStrings.encode(List.of("sleep", "3600")));
        assertEquals("[]", JsonStrings.encode(List.of()));
    }

    @Test
    void awkwardStringsRoundTrip() {
        List<String> values = List.of("sh", "-c", "echo \"quoted\" \\ back\nnew\ttab \u0001 ✓ 沙箱", "");
        assertEquals(Optional.of(values), JsonStrings.decode(JsonStrings.encode(values)));
    }

    @Test
    void decodesWhatPythonJsonDumpsWrites() {
        assertEquals(Optional.of(List.of("a b", "é")), JsonStrings.decode("[\"a b\", \"\\u00e9\"]"));
    }

    @Test
    void rejectsWhatIsNotAnArrayOfStrings() {
        assertEquals(Optional.empty(), JsonStrings.decode("sleep 3600"));
        assertEquals(Optional.empty(), JsonStrings.decode("[1,2]"));
        assertEquals(Optional.empty(), JsonStrings.decode("[\"a\"] x"));
        assertEquals(Optional.empty(), JsonStrings.decode("[\"unterminated"));
        assertEquals(Optional.empty(), JsonStrings.decode(null));
    }
}
