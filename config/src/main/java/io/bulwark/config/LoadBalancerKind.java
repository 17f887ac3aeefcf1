package io.bulwark.config;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The load-balancing algorithms a cluster can use, by their config names. */
public enum LoadBalancerKind {
    ROUND_ROBIN("round-robin"),
    LEAST_REQUEST("least-request"),
    RANDOM("random"),
    EWMA("ewma"),
    RING_HASH("ring-hash");

    private final String configName;

    LoadBalancerKind(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static Optional<LoadBalancerKind> fromConfigName(String name) {
        return Arrays.stream(values()).filter(k -> k.configName.equals(name)).findFirst();
    }

    public static List<String> configNames() {
        return Arrays.stream(values()).map(LoadBalancerKind::configName).toList();
    }
}
