package dev.opensandbox.core.spi;

/**
 * What a sandbox uses now, as the runtime measures it from outside (for Docker, the engine's
 * container statistics).
 *
 * @param cpuCount         the CPUs the sandbox may use: its CPU limit, else the host's online CPUs
 * @param cpuUsedPercent   CPU use over the last sampling interval, in percent of {@code cpuCount}
 *                         CPUs (0..100)
 * @param memoryLimitBytes the memory the sandbox may use: its limit, else the host's memory
 * @param memoryUsedBytes  the memory it uses now, page cache excluded where the runtime can tell
 */
public record ResourceUsage(double cpuCount, double cpuUsedPercent, long memoryLimitBytes, long memoryUsedBytes) {

    public ResourceUsage {
        if (cpuCount < 0 || cpuUsedPercent < 0 || memoryLimitBytes < 0 || memoryUsedBytes < 0) {
            throw new IllegalArgumentException("resource usage is never negative");
        }
    }
}
