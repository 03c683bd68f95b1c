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

    @Test
    void environmentValuesAreMaskedUnlessTheirNameIsAllowListed() {
        java.util.Set<String> visible = java.util.Set.copyOf(Secrets.DEFAULT_VISIBLE_ENV);
        for (String name : new String[] {"MY_PASSWD", "GH_PAT", "DATABASE_URL", "CREDENTIALS", "path"}) {
            assertEquals(Secrets.MASK, Secrets.maskEnv(name, "value", visible), name);
        }
        assertEquals("/bin", Secrets.maskEnv("PATH", "/bin", visible));
        assertEquals("", Secrets.maskEnv("GH_PAT", "", visible), "an empty value is shown as empty");
        assertEquals("s3cr3t", Secrets.maskEnv("GH_PAT", "s3cr3t", java.util.Set.of("GH_PAT")),
            "the operator's allow-list decides");
    }
}
