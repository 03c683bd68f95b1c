package dev.opensandbox.it.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import dev.opensandbox.it.fuzz.JsonBody.Kind;
import dev.opensandbox.it.fuzz.JsonBody.Mutation;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The mutator sends exactly the bytes it describes: raw values, duplicate keys, removals. */
class JsonBodyTest {

    private static final JsonNode TEMPLATE = JsonBody.parse("{\"a\":{\"b\":[1,2]},\"c\":\"x\"}");

    @Test
    void pointersNameEveryValue() {
        assertEquals(List.of("", "/a", "/a/b", "/a/b/0", "/a/b/1", "/c"), JsonBody.pointers(TEMPLATE));
        assertEquals(List.of("", "/a"), JsonBody.objectPointers(TEMPLATE));
    }

    @Test
    void rawValuesAreSplicedInAsTheyAre() {
        assertEquals("{\"a\":{\"b\":[1,NaN]},\"c\":\"x\"}",
            JsonBody.apply(TEMPLATE, List.of(new Mutation(Kind.REPLACE, "/a/b/1", null, "NaN"))));
        assertEquals("1e30", JsonBody.apply(TEMPLATE, List.of(new Mutation(Kind.REPLACE, "", null, "1e30"))));
    }

    @Test
    void anAddedFieldMayRepeatAKey() {
        assertEquals("{\"a\":{\"b\":[1,2]},\"c\":\"x\",\"c\":null}",
            JsonBody.apply(TEMPLATE, List.of(new Mutation(Kind.ADD_FIELD, "", "\"c\"", "null"))));
    }

    @Test
    void removalsAndMutationsOfWhatIsGoneAreApplied() {
        assertEquals("{\"c\":\"x\"}", JsonBody.apply(TEMPLATE, List.of(new Mutation(Kind.REMOVE, "/a", null, null),
            new Mutation(Kind.REPLACE, "/a/b/0", null, "7"))));
        assertEquals("", JsonBody.apply(TEMPLATE, List.of(new Mutation(Kind.REMOVE, "", null, null),
            new Mutation(Kind.REPLACE, "/c", null, "7"))));
    }

    @Test
    void quotingEscapesControlCharactersAndLoneSurrogates() {
        assertEquals("\"a\\u0000\\n\\ud800\\\"\"", Values.quote("a\u0000\n\ud800\""));
    }
}
