package dev.opensandbox.runtime.docker;

import com.github.dockerjava.api.model.CpuStatsConfig;
import com.github.dockerjava.api.model.MemoryStatsConfig;
import com.github.dockerjava.api.model.Statistics;
import com.github.dockerjava.api.model.StatsConfig;
import dev.opensandbox.core.spi.ResourceUsage;

import java.util.List;

/**
 * Turns one sample of the engine's container statistics into a {@link ResourceUsage}, computed
 * the way {@code docker stats} does, except that CPU use is expressed in percent of the CPUs the
 * sandbox may use rather than of one CPU. The arithmetic works on plain numbers so that it can
 * be tested without an engine.
 */
final class ContainerStats {

    private static final double NANOS_PER_CPU = 1e9;

    /**
     * The numbers of one stats response that matter here; null where the engine left a field out.
     *
     * @param cpuTotal          the container's cumulative CPU time (ns), now
     * @param preCpuTotal       the same at the previous sample
     * @param systemCpu         the host's cumulative CPU time (ns), now
     * @param preSystemCpu      the same at the previous sample
     * @param onlineCpus        the host's online CPUs
     * @param perCpuEntries     entries of the per-CPU usage list, which older engines send instead of
     *                          {@code onlineCpus}
     * @param memoryUsage       the cgroup's memory usage, page cache included
     * @param memoryLimit       the cgroup's limit: the container's, else the host's memory
     * @param totalInactiveFile cgroup v1's hierarchical {@code total_inactive_file}
     * @param inactiveFile      {@code inactive_file} (cgroup v2; v1 sends it too, non-hierarchical)
     * @param cache             cgroup v1's {@code cache}, which engines before {@code total_inactive_file} sent
     */
    record Sample(Long cpuTotal, Long preCpuTotal, Long systemCpu, Long preSystemCpu, Long onlineCpus,
                  int perCpuEntries, Long memoryUsage, Long memoryLimit, Long totalInactiveFile, Long inactiveFile,
                  Long cache) {

        /** Whether the engine sent any measurement: a container that stopped meanwhile yields an empty one. */
        boolean measured() {
            return cpuTotal != null || memoryUsage != null;
        }
    }

    private ContainerStats() {
    }

    /** Reads the fields of a docker-java stats object, tolerating every missing section. */
    static Sample sample(Statistics stats) {
        CpuStatsConfig cpu = stats.getCpuStats();
        CpuStatsConfig preCpu = stats.getPreCpuStats();
        MemoryStatsConfig memory = stats.getMemoryStats();
        StatsConfig memoryDetails = memory == null ? null : memory.getStats();
        List<Long> perCpu = cpu == null || cpu.getCpuUsage() == null ? null : cpu.getCpuUsage().getPercpuUsage();
        return new Sample(
            cpu == null || cpu.getCpuUsage() == null ? null : cpu.getCpuUsage().getTotalUsage(),
            preCpu == null || preCpu.getCpuUsage() == null ? null : preCpu.getCpuUsage().getTotalUsage(),
            cpu == null ? null : cpu.getSystemCpuUsage(),
            preCpu == null ? null : preCpu.getSystemCpuUsage(),
            cpu == null ? null : cpu.getOnlineCpus(),
            perCpu == null ? 0 : perCpu.size(),
            memory == null ? null : memory.getUsage(),
            memory == null ? null : memory.getLimit(),
            memoryDetails == null ? null : memoryDetails.getTotalInactiveFile(),
            memoryDetails == null ? null : memoryDetails.getInactiveFile(),
            memoryDetails == null ? null : memoryDetails.getCache());
    }

    /**
     * The usage of a sample.
     *
     * @param nanoCpus          the container's CPU limit ({@code HostConfig.NanoCpus}), 0 or null when none
     * @param hostConfigMemory  the container's memory limit, used only when the sample has no limit
     */
    static ResourceUsage usage(Sample sample, Long nanoCpus, Long hostConfigMemory) {
        long online = onlineCpus(sample);
        double cpuCount = cpuCount(nanoCpus, online);
        double cpuPercent = cpuUsedPercent(sample.cpuTotal(), sample.preCpuTotal(), sample.systemCpu(),
            sample.preSystemCpu(), online, cpuCount);
        long limit = positive(sample.memoryLimit()) ? sample.memoryLimit()
            : positive(hostConfigMemory) ? hostConfigMemory : 0;
        long used = memoryUsed(sample.memoryUsage(), sample.totalInactiveFile(), sample.inactiveFile(), sample.cache());
        return new ResourceUsage(cpuCount, cpuPercent, limit, used);
    }

    /** The host's online CPUs; the per-CPU list where the engine does not say; 1 when neither is known. */
    static long onlineCpus(Sample sample) {
        if (positive(sample.onlineCpus())) {
            return sample.onlineCpus();
        }
        return sample.perCpuEntries() > 0 ? sample.perCpuEntries() : 1;
    }

    /** The CPUs the container may use: its NanoCpus limit, else every online CPU of the host. */
    static double cpuCount(Long nanoCpus, long onlineCpus) {
        return positive(nanoCpus) ? nanoCpus / NANOS_PER_CPU : onlineCpus;
    }

    /**
     * CPU use between the previous sample and this one, in percent of {@code cpuCount} CPUs:
     * {@code (cpuDelta / systemDelta) * onlineCpus * 100} is percent of one CPU (as
     * {@code docker stats} shows it), divided by {@code cpuCount} and clamped to 0..100. Without
     * a previous sample, or when a counter went backwards (a restart), there is no interval to
     * measure and the use is 0.
     */
    static double cpuUsedPercent(Long cpuTotal, Long preCpuTotal, Long systemCpu, Long preSystemCpu, long onlineCpus,
                                 double cpuCount) {
        if (cpuTotal == null || systemCpu == null || !positive(preCpuTotal) || !positive(preSystemCpu)
            || cpuCount <= 0) {
            return 0;
        }
        double cpuDelta = cpuTotal - preCpuTotal;
        double systemDelta = systemCpu - preSystemCpu;
        if (cpuDelta <= 0 || systemDelta <= 0) {
            return 0;
        }
        double percentOfOneCpu = cpuDelta / systemDelta * onlineCpus * 100;
        return Math.min(100, Math.max(0, percentOfOneCpu / cpuCount));
    }

    /**
     * Memory in use without the page cache the kernel can reclaim, as {@code docker stats}
     * subtracts it: cgroup v1's {@code total_inactive_file} when present, else
     * {@code inactive_file} (cgroup v2), else the old v1 {@code cache}. Never negative.
     */
    static long memoryUsed(Long usage, Long totalInactiveFile, Long inactiveFile, Long cache) {
        if (usage == null || usage <= 0) {
            return 0;
        }
        Long reclaimable = totalInactiveFile != null ? totalInactiveFile : inactiveFile != null ? inactiveFile : cache;
        return reclaimable == null ? usage : Math.max(0, usage - reclaimable);
    }

    private static boolean positive(Long value) {
        return value != null && value > 0;
    }
}
