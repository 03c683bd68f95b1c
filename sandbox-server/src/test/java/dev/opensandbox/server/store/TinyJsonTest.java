package dev.opensandbox.server.store;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TinyJsonTest {

    @Test
    void restoreConfigIsWrittenAsPythonJsonDumpsWritesIt() {
        // json.dumps({"image": ...}, sort_keys=True)
        assertEquals("{\"image\": \"opensandbox-snapshots:abc\"}", TinyJson.writeRestoreConfig("opensandbox-snapshots:abc"));
        assertEquals("{\"image\": null}", TinyJson.writeRestoreConfig(null));
        // ensure_ascii: non-ASCII and DEL as lowercase \\u escapes, astral characters as surrogate pairs
        assertEquals("{\"image\": \"caf\\u00e9\\ud83d\\ude80\\u007f\\\\\\\"/\"}",
            TinyJson.writeRestoreConfig("caf\u00e9\uD83D\uDE80\u007f\\\"/"));
    }

    @Test
    void restoreImageIsReadLeniently() {
        assertEquals("img", TinyJson.readRestoreImage("{\"image\": \"img\"}"));
        assertEquals("img", TinyJson.readRestoreImage(" {\"image\":\"img\",\"extra\":{\"a\":[true,false,null,-1.5e3]}} "));
        assertEquals("img", TinyJson.readRestoreImage("{\"other\": 1, \"image\": \"img\"}"));
        assertNull(TinyJson.readRestoreImage("{\"image\": null}"));
        assertNull(TinyJson.readRestoreImage("{\"image\": 42}"));
        assertNull(TinyJson.readRestoreImage("{}"));
        assertEquals("caf\u00e9/\uD83D\uDE80", TinyJson.readRestoreImage("{\"image\": \"caf\\u00e9\\/\\ud83d\\ude80\"}"));
        assertThrows(IllegalArgumentException.class, () -> TinyJson.readRestoreImage("[\"image\"]"));
    }

    @Test
    void stringMapsKeepOrderAndEscapeEverythingAwkward() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("z", "\"quoted\"");
        map.put("a", "back\\slash\nnew\u0001line\t\b\f\r");
        map.put("", "");

        String json = TinyJson.writeStringMap(map);

        assertEquals("{\"z\": \"\\\"quoted\\\"\", \"a\": \"back\\\\slash\\nnew\\u0001line\\t\\b\\f\\r\", \"\": \"\"}", json);
        assertEquals(map, TinyJson.readStringMap(json));
        assertEquals(List.copyOf(map.keySet()), List.copyOf(TinyJson.readStringMap(json).keySet()));
        assertEquals("{}", TinyJson.writeStringMap(Map.of()));
        assertEquals(Map.of(), TinyJson.readStringMap("{ }"));
    }

    @Test
    void everyCharRoundTrips() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < Character.MAX_VALUE; c++) {
            all.append(c);
        }
        Map<String, String> map = Map.of("all", all.toString());

        assertEquals(map, TinyJson.readStringMap(TinyJson.writeStringMap(map)));
    }

    @Test
    void parseReadsEveryKindOfValue() {
        Object value = TinyJson.parse("{\"a\": [1, -2.5E+2, true, false, null, {}], \"b\": \"x\"}");

        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("a", java.util.Arrays.asList(new BigDecimal("1"), new BigDecimal("-2.5E+2"), true, false, null,
            Map.of()));
        expected.put("b", "x");
        assertEquals(expected, value);
    }

    @Test
    void malformedJsonIsRejected() {
        for (String bad : List.of("", "{", "{\"a\"}", "{\"a\": }", "{\"a\": 1,}", "{\"a\": \"\\x\"}",
            "{\"a\": \"\\u12\"}", "{\"a\": \"open}", "{} {}", "nul", "[1 2]", "{a: 1}", "[".repeat(100))) {
            assertThrows(IllegalArgumentException.class, () -> TinyJson.parse(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> TinyJson.readStringMap("{\"a\": 1}"));
        assertThrows(IllegalArgumentException.class, () -> TinyJson.readStringMap("[]"));
    }
}
