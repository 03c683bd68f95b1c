package dev.opensandbox.runtime.docker;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * The host clients are told to use: {@code server.eip}, else a concrete {@code server.host},
 * else {@code docker.host_ip}, else this machine's outward IPv4 address found from its network
 * interfaces (no packet is sent, unlike upstream's UDP connect to 8.8.8.8), else loopback.
 */
final class PublicHost {

    private static final Set<String> WILDCARDS = Set.of("", "0.0.0.0", "::", "[::]");

    private PublicHost() {
    }

    static String resolve(DockerRuntimeConfig config) {
        if (config.serverEip() != null && !config.serverEip().isBlank()) {
            return config.serverEip().trim();
        }
        if (config.serverHost() != null && !WILDCARDS.contains(config.serverHost().trim())) {
            return config.serverHost().trim();
        }
        if (config.hostIp() != null && !config.hostIp().isBlank()) {
            return config.hostIp().trim();
        }
        return outwardIpv4();
    }

    /**
     * The first non-loopback, non-link-local IPv4 of an interface that is up and not virtual,
     * preferring site-local addresses of physical-looking interfaces over Docker's own bridges.
     */
    static String outwardIpv4() {
        List<Candidate> candidates = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp() || nic.isLoopback() || nic.isVirtual()) {
                    continue;
                }
                for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                    if (address instanceof Inet4Address && !address.isLoopbackAddress()
                        && !address.isLinkLocalAddress() && !address.isAnyLocalAddress()) {
                        candidates.add(new Candidate(nic.getName(), address.getHostAddress()));
                    }
                }
            }
        } catch (SocketException | RuntimeException e) {
            return "127.0.0.1";
        }
        return candidates.stream()
            .min(Comparator.comparingInt(Candidate::rank).thenComparing(Candidate::nic))
            .map(Candidate::address)
            .orElse("127.0.0.1");
    }

    private record Candidate(String nic, String address) {
        /** Docker and virtual bridges last: clients outside this machine cannot reach them. */
        int rank() {
            boolean bridge = nic.startsWith("docker") || nic.startsWith("br-") || nic.startsWith("veth")
                || nic.startsWith("virbr") || nic.startsWith("cni") || nic.startsWith("flannel");
            return bridge ? 1 : 0;
        }
    }
}
