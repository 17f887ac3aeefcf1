package io.bulwark.it;

import io.bulwark.proxy.testing.FreePorts;

/** Free loopback ports for configs written by the tests (below the ephemeral range: see {@link FreePorts}). */
public final class Ports {
    private Ports() {
    }

    public static int free() {
        return FreePorts.next();
    }
}
