package dev.opensandbox.it.fuzz;

import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.GenerationMode;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * How many requests a fuzzing class sends in all ({@code defaultTries}, or the system property
 * named by {@code property}, e.g. {@code -Dfuzz.tries=50000}), shared out among its properties by
 * their {@link Share}. Every property runs with the seed {@code -Dfuzz.seed} (default
 * {@value #DEFAULT_SEED}), so that a default run sends the same requests every time.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
public @interface FuzzBudget {

    String DEFAULT_SEED = "20261208";

    int defaultTries();

    String property();

    /** A property's part of the budget, in percent, or a fixed number of tries outside it. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @interface Share {
        int percent() default 0;

        int fixedTries() default 0;
    }

    /** Applies the budget and the seed to each property of a class annotated with {@link FuzzBudget}. */
    final class Hook implements AroundPropertyHook {

        @Override
        public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
            FuzzBudget budget = context.containerClass().getAnnotation(FuzzBudget.class);
            Share share = context.targetMethod().getAnnotation(Share.class);
            if (budget != null && share != null) {
                context.attributes().setTries(tries(budget, share));
                context.attributes().setSeed(System.getProperty("fuzz.seed", DEFAULT_SEED));
                context.attributes().setGeneration(GenerationMode.RANDOMIZED);
                // The value lists already hold the edge cases; jqwik's own would spend the budget on first-and-last combinations.
                context.attributes().setEdgeCases(EdgeCasesMode.NONE);
            }
            return property.execute();
        }

        static int tries(FuzzBudget budget, Share share) {
            if (share.fixedTries() > 0) {
                return share.fixedTries();
            }
            int total = Integer.getInteger(budget.property(), budget.defaultTries());
            return Math.max(1, (int) Math.round(total * share.percent() / 100.0));
        }
    }
}
