package dev.opensandbox.core.spi;

import dev.opensandbox.core.Labels;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeploymentTest {

    private static final Map<String, String> OURS = Map.of(Labels.ID, "x", Labels.DEPLOYMENT, "alpha");
    private static final Map<String, String> THEIRS = Map.of(Labels.ID, "x", Labels.DEPLOYMENT, "beta");
    private static final Map<String, String> UNLABELLED = Map.of(Labels.ID, "x");

    @Test
    void aScopedDeploymentOwnsOnlyWhatItLabelled() {
        Deployment alpha = Deployment.of("alpha");
        assertTrue(alpha.owns(OURS));
        assertFalse(alpha.owns(THEIRS));
        assertFalse(alpha.owns(UNLABELLED));
        assertEquals(Map.of(Labels.DEPLOYMENT, "alpha"), alpha.labels());
    }

    @Test
    void adoptingUnlabelledObjectsNeverAdoptsAnotherDeployments() {
        Deployment alpha = new Deployment("alpha", true);
        assertTrue(alpha.owns(UNLABELLED));
        assertFalse(alpha.owns(THEIRS));
    }

    @Test
    void anUnscopedDeploymentStampsNothingAndOwnsEverySandbox() {
        Deployment unscoped = Deployment.unscoped();
        assertTrue(unscoped.owns(OURS));
        assertTrue(unscoped.owns(THEIRS));
        assertTrue(unscoped.owns(UNLABELLED));
        assertEquals(Map.of(), unscoped.labels());
    }

    @Test
    void idsThatAreNotLabelValuesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Deployment.of("Upper"));
        assertThrows(IllegalArgumentException.class, () -> Deployment.of("-dash"));
        assertThrows(IllegalArgumentException.class, () -> Deployment.of("a".repeat(64)));
        assertEquals("a".repeat(63), Deployment.of("a".repeat(63)).id());
    }
}
