package dev.opensandbox.server.http;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Runs a test once at the root and once under {@code /v1}: every API route is served at both. */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "prefix \"{0}\"")
@ValueSource(strings = {"", "/v1"})
@interface BothPrefixes {
}
