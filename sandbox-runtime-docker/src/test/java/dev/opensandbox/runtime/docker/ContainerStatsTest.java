package dev.opensandbox.runtime.docker;

import dev.opensandbox.core.spi.ResourceUsage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The arithmetic behind the Docker runtime's stats, on numbers as the engine sends them. */
class ContainerStatsTest {

    private static final long GIB = 1024L * 1024 * 1024;
    private static final double EXACT = 1e-9;

    /** A sample on an 8-CPU host with 2 GiB of memory; the CPU and memory numbers vary per test. */
    private static ContainerStats.Sample sample(Long cpuTotal, Long preCpuTotal, Long systemCpu, Long preSystemCpu,
                                                Long usage, Long totalInactiveFile, Long inactiveFile, Long cache) {
        return new ContainerStats.Sample(cpuTotal, preCpuTotal, systemCpu, preSystemCpu, 8L, 0, usage, 2 * GIB,
            totalInactiveFile, inactiveFile, cache);
    }

    @Test
    void cpuUseIsPercentOfAllOnlineCpusWithoutALimit() {
        // One CPU busy of eight: docker stats would show 100 %, which is 12.5 % of what the sandbox may use.
        double percent = ContainerStats.cpuUsedPercent(2_000_000_000L, 1_000_000_000L, 18_000_000_000L, 10_000_000_000L,
            8, 8);

        assertEquals(12.5, percent, EXACT);
    }

    @Test
    void cpuUseIsPercentOfTheNanoCpusLimit() {
        // A quarter of one CPU busy with a limit of half a CPU: half of the limit.
        double percent = ContainerStats.cpuUsedPercent(1_250_000_000L, 1_000_000_000L, 18_000_000_000L, 10_000_000_000L,
            8, 0.5);

        assertEquals(50, percent, EXACT);
    }

    @Test
    void cpuUseIsClampedToOneHundred() {
        // Bursting above the quota between two samples is possible; the contract says 0..100.
        double percent = ContainerStats.cpuUsedPercent(4_000_000_000L, 1_000_000_000L, 18_000_000_000L, 10_000_000_000L,
            8, 0.5);

        assertEquals(100, percent, EXACT);
    }

    @Test
    void cpuUseIsZeroWithoutAPreviousSample() {
        assertEquals(0, ContainerStats.cpuUsedPercent(2_000_000_000L, 0L, 18_000_000_000L, 0L, 8, 8), EXACT);
        assertEquals(0, ContainerStats.cpuUsedPercent(2_000_000_000L, null, 18_000_000_000L, null, 8, 8), EXACT);
    }

    @Test
    void cpuUseIsZeroWhenACounterWentBackwards() {
        assertEquals(0, ContainerStats.cpuUsedPercent(500L, 1_000L, 18_000_000_000L, 10_000_000_000L, 8, 8), EXACT);
        assertEquals(0, ContainerStats.cpuUsedPercent(2_000L, 1_000L, 10_000_000_000L, 10_000_000_000L, 8, 8), EXACT);
    }

    @Test
    void cpuCountIsTheNanoCpusLimitElseTheOnlineCpus() {
        assertEquals(0.5, ContainerStats.cpuCount(500_000_000L, 8), EXACT);
        assertEquals(8, ContainerStats.cpuCount(0L, 8), EXACT);
        assertEquals(8, ContainerStats.cpuCount(null, 8), EXACT);
    }

    @Test
    void onlineCpusFallBackToThePerCpuListThenToOne() {
        ContainerStats.Sample perCpuOnly = new ContainerStats.Sample(1L, 1L, 1L, 1L, null, 4, 1L, 1L, null, null, null);
        ContainerStats.Sample nothing = new ContainerStats.Sample(1L, 1L, 1L, 1L, 0L, 0, 1L, 1L, null, null, null);

        assertEquals(4, ContainerStats.onlineCpus(perCpuOnly));
        assertEquals(1, ContainerStats.onlineCpus(nothing));
    }

    @Test
    void memoryUsedSubtractsCgroupV1TotalInactiveFileFirst() {
        assertEquals(700, ContainerStats.memoryUsed(1_000L, 300L, 100L, 400L));
    }

    @Test
    void memoryUsedSubtractsCgroupV2InactiveFile() {
        assertEquals(900, ContainerStats.memoryUsed(1_000L, null, 100L, null));
    }

    @Test
    void memoryUsedSubtractsOldCgroupV1CacheWhenNothingElseIsSent() {
        assertEquals(600, ContainerStats.memoryUsed(1_000L, null, null, 400L));
    }

    @Test
    void memoryUsedIsTheUsageWhenNoPageCacheIsReported() {
        assertEquals(1_000, ContainerStats.memoryUsed(1_000L, null, null, null));
    }

    @Test
    void memoryUsedIsNeverNegative() {
        assertEquals(0, ContainerStats.memoryUsed(1_000L, 1_500L, null, null));
        assertEquals(0, ContainerStats.memoryUsed(null, 1_500L, null, null));
    }

    @Test
    void usageCombinesLimitsAndSample() {
        ContainerStats.Sample sample = sample(1_250_000_000L, 1_000_000_000L, 18_000_000_000L, 10_000_000_000L,
            300_000_000L, 100_000_000L, null, null);

        ResourceUsage usage = ContainerStats.usage(sample, 500_000_000L, null);

        assertEquals(new ResourceUsage(0.5, 50, 2 * GIB, 200_000_000L), usage);
    }

    @Test
    void memoryLimitFallsBackToTheContainersOwnWhenTheSampleHasNone() {
        ContainerStats.Sample noLimit = new ContainerStats.Sample(1L, null, 1L, null, 2L, 0, 10L, null, null, null, null);

        ResourceUsage usage = ContainerStats.usage(noLimit, null, 64L * 1024 * 1024);

        assertEquals(new ResourceUsage(2, 0, 64L * 1024 * 1024, 10), usage);
    }

    @Test
    void anEmptySampleIsNotAMeasurement() {
        ContainerStats.Sample empty = new ContainerStats.Sample(null, null, null, null, null, 0, null, null, null, null,
            null);

        assertFalse(empty.measured());
    }
}
