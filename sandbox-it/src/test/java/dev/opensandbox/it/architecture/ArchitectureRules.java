package dev.opensandbox.it.architecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.AccessTarget.CodeUnitCallTarget;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;

import java.util.Map;
import java.util.Set;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The dependency manifest of the project as ArchUnit rules over the production classes of every
 * module. Each rule says why it exists. The factories take the package to check so that the
 * bad-fixture tests run the very same conditions on deliberately broken classes.
 */
public final class ArchitectureRules {

    /** The root package of every module. */
    public static final String ROOT_PACKAGE = "dev.opensandbox";

    /** The one class allowed to read the system clock and the environment and hand them to the rest. */
    public static final String MAIN_CLASS = "dev.opensandbox.server.Main";

    private static final String CORE = "dev.opensandbox.core..";
    private static final String DOCKER = "dev.opensandbox.runtime.docker..";
    private static final String K8S = "dev.opensandbox.runtime.k8s..";
    private static final String SERVER = "dev.opensandbox.server..";

    // Declared before the rules: static fields initialize in order.
    /**
     * Static methods that read wall-clock time or the process environment, by owner. Overloads
     * taking a {@link java.time.Clock} are not listed: they read the injected clock.
     */
    private static final Map<String, Set<String>> FORBIDDEN_STATIC_CALLS = Map.of(
        "java.lang.System", Set.of("currentTimeMillis", "getenv"),
        "java.time.Clock", Set.of("systemUTC", "systemDefaultZone", "system", "tickMillis", "tickSeconds",
            "tickMinutes"));

    private static final DescribedPredicate<JavaCall<?>> READS_SYSTEM_CLOCK_OR_ENVIRONMENT =
        DescribedPredicate.describe("read the system clock or the environment (Instant.now(), LocalDateTime.now(), "
            + "Clock.systemUTC(), System.currentTimeMillis(), System.getenv(..), ...)",
            ArchitectureRules::readsSystemClockOrEnvironment);

    public static final ArchRule CORE_DEPENDS_ONLY_ON_JDK_SLF4J_AND_ITSELF = dependsOnlyOnJdkSlf4jAnd(CORE)
        .because("the core is the SPI third parties implement and embedders use: it must not drag vendor "
            + "libraries (Docker, Kubernetes, HTTP, JSON) onto their classpath");

    public static final ArchRule DOCKER_JAVA_ONLY_IN_DOCKER_RUNTIME = vendorConfinedTo("com.github.dockerjava..", DOCKER)
        .because("docker-java types never cross a port: the Docker adapter translates them, and its errors, in one place");

    public static final ArchRule FABRIC8_ONLY_IN_KUBERNETES_RUNTIME = vendorConfinedTo("io.fabric8..", K8S)
        .because("fabric8 types never cross a port: the Kubernetes adapter translates them, and its errors, in one place");

    public static final ArchRule JAVALIN_ONLY_IN_SERVER = vendorConfinedTo("io.javalin..", SERVER)
        .because("HTTP is the server's adapter; the core and the runtimes are usable without a web framework");

    public static final ArchRule JACKSON_ONLY_IN_SERVER = vendorConfinedTo("com.fasterxml.jackson..", SERVER)
        .because("JSON is the wire format of the server's adapter; DTOs live there, domain records stay plain");

    public static final ArchRule TOMLJ_ONLY_IN_SERVER = vendorConfinedTo("org.tomlj..", SERVER)
        .because("runtimes read their configuration as plain maps from RuntimeContext, not from the TOML library");

    public static final ArchRule RUNTIME_ADAPTERS_DO_NOT_DEPEND_ON_EACH_OTHER = slices()
        .matching("dev.opensandbox.runtime.(*)..").should().notDependOnEachOther()
        .allowEmptyShould(true)
        .because("each runtime adapter ships alone and is chosen by configuration; sharing code goes through the core");

    public static final ArchRule RUNTIME_ADAPTERS_DO_NOT_DEPEND_ON_THE_SERVER = noClasses()
        .that().resideInAnyPackage(DOCKER, K8S)
        .should().dependOnClassesThat().resideInAPackage(SERVER)
        .allowEmptyShould(true)
        .because("the server wires the runtimes, never the other way round; a runtime must be embeddable without it");

    public static final ArchRule NO_PACKAGE_CYCLES = slices()
        .matching(ROOT_PACKAGE + ".(**)").should().beFreeOfCycles()
        .because("packages that depend on each other in a circle cannot be understood, tested or split apart alone");

    public static final ArchRule ONLY_MAIN_READS_SYSTEM_CLOCK_OR_ENVIRONMENT =
        noSystemClockOrEnvironmentReads(ROOT_PACKAGE + "..", MAIN_CLASS)
            .because("time and environment are injected (Clock, RuntimeContext) so that expiry and configuration "
                + "are testable without sleeping or mutating the process; System.nanoTime stays allowed for "
                + "monotonic timeouts");

    private ArchitectureRules() {
    }

    /** The production classes of every module: sandbox-it's own test classes (fixtures included) are left out. */
    public static JavaClasses importProductionClasses() {
        // Not DoNotIncludeJars: when sandbox-it is built alone, the other modules arrive as jars.
        return new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            // Modules share test helpers through "-tests.jar" artifacts, which the predefined option does not know.
            .withImportOption(location -> !location.contains("-tests.jar"))
            .importPackages(ROOT_PACKAGE);
    }

    /** Classes in {@code packageIdentifier} depend only on the JDK, SLF4J and that package itself. */
    static ArchRule dependsOnlyOnJdkSlf4jAnd(String packageIdentifier) {
        return classes().that().resideInAPackage(packageIdentifier)
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "org.slf4j..", packageIdentifier);
    }

    /** Only classes in {@code allowedPackage} may use the library in {@code vendorPackage}. */
    static ArchRule vendorConfinedTo(String vendorPackage, String allowedPackage) {
        return noClasses().that().resideOutsideOfPackage(allowedPackage)
            .should().dependOnClassesThat().resideInAPackage(vendorPackage)
            .allowEmptyShould(true);
    }

    /** No class in {@code packageIdentifier} but {@code exemptClass} reads the system clock or the environment. */
    static ArchRule noSystemClockOrEnvironmentReads(String packageIdentifier, String exemptClass) {
        return noClasses().that().resideInAPackage(packageIdentifier).and().doNotHaveFullyQualifiedName(exemptClass)
            .should().callCodeUnitWhere(READS_SYSTEM_CLOCK_OR_ENVIRONMENT);
    }

    private static boolean readsSystemClockOrEnvironment(JavaCall<?> call) {
        CodeUnitCallTarget target = call.getTarget();
        JavaClass owner = target.getOwner();
        String name = target.getName();
        if (owner.getPackageName().startsWith("java.time") && name.equals("now")) {
            // now() and now(ZoneId) read the system clock; now(Clock) reads the injected one.
            return target.getRawParameterTypes().stream().noneMatch(type -> type.isAssignableTo(java.time.Clock.class));
        }
        return FORBIDDEN_STATIC_CALLS.getOrDefault(owner.getName(), Set.of()).contains(name);
    }
}
