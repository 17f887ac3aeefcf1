package io.bulwark.routing;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Real {@link Upstream}s and {@link HostSet}s for balancer tests, on a {@link ManualClock}. */
public final class TestHosts {

    private final ManualClock clock = new ManualClock();

    public ManualClock clock() {
        return clock;
    }

    /** An upstream at {@code 10.0.0.<n>:8080}-style address with the given weight. */
    public Upstream upstream(String address, int weight) {
        int colon = address.lastIndexOf(':');
        InetSocketAddress socket = InetSocketAddress.createUnresolved(
                address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
        return new Upstream("test", address, socket, weight, clock, () -> { });
    }

    /** {@code count} upstreams of weight 1: 10.0.0.1:8080, 10.0.0.2:8080, ... */
    public List<Upstream> upstreams(int count) {
        List<Upstream> list = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            list.add(upstream("10.0.0." + i + ":8080", 1));
        }
        return list;
    }

    /** Upstreams with the given weights, addresses as in {@link #upstreams(int)}. */
    public List<Upstream> weighted(int... weights) {
        List<Upstream> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            list.add(upstream("10.0.0." + (i + 1) + ":8080", weights[i]));
        }
        return list;
    }

    /** The snapshot a cluster would publish for {@code all} with the default 50% panic threshold. */
    public static HostSet hostSet(List<Upstream> all) {
        return HostSet.of(all, 50);
    }
}
