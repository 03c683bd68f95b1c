package dev.opensandbox.it.archfixture;

import com.fasterxml.jackson.databind.ObjectMapper;

/** Deliberately uses a library confined to the server; the dependency rules must report it. */
public class UsesJacksonOutsideServer {

    public String toJson(Object value) throws Exception {
        return new ObjectMapper().writeValueAsString(value);
    }
}
