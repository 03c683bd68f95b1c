package dev.opensandbox.it.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs {@link ArchitectureRules} over the production classes of every module, and proves with
 * deliberately bad fixture classes that the rules really report violations.
 */
class ArchitectureTest {

    private static final String FIXTURE_PACKAGE = "dev.opensandbox.it.archfixture";

    private static JavaClasses production;
    private static JavaClasses fixtures;

    @BeforeAll
    static void importClasses() {
        production = ArchitectureRules.importProductionClasses();
        fixtures = new ClassFileImporter().importPackages(FIXTURE_PACKAGE);
    }

    @Test
    void productionImportContainsTheCoreAndTheKitButNoTestClasses() {
        assertTrue(production.contain("dev.opensandbox.core.SandboxId"), "core domain");
        assertTrue(production.contain("dev.opensandbox.core.spi.SandboxRuntime"), "core SPI");
        assertTrue(production.contain("dev.opensandbox.it.SandboxRuntimeCompatibilityKit"), "the kit in sandbox-it/src/main");
        assertFalse(production.contain(FIXTURE_PACKAGE + ".ReadsSystemClockAndEnvironment"), "test fixtures");
        assertFalse(production.contain(ArchitectureTest.class.getName()), "this test");
        assertFalse(production.contain("dev.opensandbox.core.testing.MutableClock"), "core's test-jar");
    }

    @Test
    void coreDependsOnlyOnJdkSlf4jAndItself() {
        ArchitectureRules.CORE_DEPENDS_ONLY_ON_JDK_SLF4J_AND_ITSELF.check(production);
    }

    @Test
    void dockerJavaIsUsedOnlyInTheDockerRuntime() {
        ArchitectureRules.DOCKER_JAVA_ONLY_IN_DOCKER_RUNTIME.check(production);
    }

    @Test
    void fabric8IsUsedOnlyInTheKubernetesRuntime() {
        ArchitectureRules.FABRIC8_ONLY_IN_KUBERNETES_RUNTIME.check(production);
    }

    @Test
    void javalinJacksonAndTomljAreUsedOnlyInTheServer() {
        ArchitectureRules.JAVALIN_ONLY_IN_SERVER.check(production);
        ArchitectureRules.JACKSON_ONLY_IN_SERVER.check(production);
        ArchitectureRules.TOMLJ_ONLY_IN_SERVER.check(production);
    }

    @Test
    void runtimeAdaptersDependNeitherOnEachOtherNorOnTheServer() {
        ArchitectureRules.RUNTIME_ADAPTERS_DO_NOT_DEPEND_ON_EACH_OTHER.check(production);
        ArchitectureRules.RUNTIME_ADAPTERS_DO_NOT_DEPEND_ON_THE_SERVER.check(production);
    }

    @Test
    void packagesAreFreeOfCycles() {
        ArchitectureRules.NO_PACKAGE_CYCLES.check(production);
    }

    @Test
    void onlyMainReadsTheSystemClockOrTheEnvironment() {
        ArchitectureRules.ONLY_MAIN_READS_SYSTEM_CLOCK_OR_ENVIRONMENT.check(production);
    }

    // ---------------------------------------------------------------- the rules fail on bad code

    @Test
    void clockRuleReportsInstantNowAndGetenvInFixture() {
        EvaluationResult result = ArchitectureRules.ONLY_MAIN_READS_SYSTEM_CLOCK_OR_ENVIRONMENT.evaluate(fixtures);

        assertTrue(result.hasViolation(), "violations expected");
        List<String> details = result.getFailureReport().getDetails();
        assertReported(details, "ReadsSystemClockAndEnvironment.expiry()", "java.time.Instant.now()");
        assertReported(details, "ReadsSystemClockAndEnvironment.home()", "java.lang.System.getenv(java.lang.String)");
        assertReported(details, "ExemptEntryPoint.systemClock()", "java.time.Clock.systemUTC()");
        assertNotReported(details, "UsesInjectedClock");
    }

    @Test
    void clockRuleExemptsOnlyTheNamedEntryPoint() {
        EvaluationResult result = ArchitectureRules.noSystemClockOrEnvironmentReads(FIXTURE_PACKAGE + "..",
            FIXTURE_PACKAGE + ".ExemptEntryPoint").evaluate(fixtures);

        List<String> details = result.getFailureReport().getDetails();
        assertNotReported(details, "ExemptEntryPoint");
        assertReported(details, "ReadsSystemClockAndEnvironment.expiry()", "java.time.Instant.now()");
    }

    @Test
    void vendorRuleReportsJacksonOutsideTheServer() {
        EvaluationResult result = ArchitectureRules.JACKSON_ONLY_IN_SERVER.evaluate(fixtures);

        assertTrue(result.hasViolation(), "violations expected");
        assertReported(result.getFailureReport().getDetails(), "UsesJacksonOutsideServer",
            "com.fasterxml.jackson.databind.ObjectMapper");
    }

    @Test
    void coreDependencyRuleReportsAVendorDependency() {
        EvaluationResult result = ArchitectureRules.dependsOnlyOnJdkSlf4jAnd(FIXTURE_PACKAGE + "..").evaluate(fixtures);

        assertTrue(result.hasViolation(), "violations expected");
        List<String> details = result.getFailureReport().getDetails();
        assertReported(details, "UsesJacksonOutsideServer", "com.fasterxml.jackson.databind.ObjectMapper");
        assertNotReported(details, "ReadsSystemClockAndEnvironment");
    }

    private static void assertReported(List<String> details, String offender, String call) {
        assertTrue(details.stream().anyMatch(line -> line.contains(offender) && line.contains(call)),
            () -> "expected a violation of " + offender + " naming " + call + " in:\n" + String.join("\n", details));
    }

    private static void assertNotReported(List<String> details, String className) {
        assertTrue(details.stream().noneMatch(line -> line.contains(className)),
            () -> "expected no violation of " + className + " in:\n" + String.join("\n", details));
    }
}
