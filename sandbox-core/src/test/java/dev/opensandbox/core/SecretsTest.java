package dev.opensandbox.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SecretsTest {

    @Test
    void namesHoldingSecretTokenPasswordOrKeyAreSecretsInAnyCase() {
        for (String name : new String[] {"API_TOKEN", "db_password", "SecretName", "OPENAI_API_KEY",
            "opensandbox.io/egress-auth-token"}) {
            assertTrue(Secrets.isSecretName(name), name);
            assertEquals(Secrets.MASK, Secrets.mask(name, "value"), name);
        }
        assertFalse(Secrets.isSecretName("PATH"));
        assertEquals("/bin", Secrets.mask("PATH", "/bin"));
        assertEquals("", Secrets.mask("API_TOKEN", ""), "an empty secret is shown as empty");
    }
}
