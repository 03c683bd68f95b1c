/**
 * The in-memory runtime: sandboxes without containers, faithful to the Docker runtime's states
 * and error codes, for tests, demos and embedders. Only {@link dev.opensandbox.core.memory.InMemorySandboxRuntime}
 * and {@link dev.opensandbox.core.memory.InMemoryRuntimeProvider} are public.
 */
package dev.opensandbox.core.memory;
