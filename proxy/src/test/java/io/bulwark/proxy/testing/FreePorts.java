package io.bulwark.proxy.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Loopback ports for configs that name a port before anything listens on it.
 *
 * <p>A port from {@code new ServerSocket(0)} comes from the kernel's ephemeral range, the same
 * range every outgoing connection takes its local port from; between the probe and Bulwark's
 * bind, any client socket in the machine may take it ("Address already in use"). These ports
 * are handed out below the ephemeral range instead, each at most once per JVM, starting at an
 * offset drawn from the process id so concurrent test JVMs walk different stretches; each is
 * probed before it is handed out.
 */
public final class FreePorts {

    private static final int FLOOR = 10_000;
    private static final int CEILING = ephemeralLow();
    private static final AtomicInteger NEXT =
            new AtomicInteger((int) (ProcessHandle.current().pid() * 997 % (CEILING - FLOOR)));

    private FreePorts() {
    }

    /** A loopback port nothing listens on now, not handed out before by this JVM. */
    public static int next() {
        for (int tries = 0; tries < CEILING - FLOOR; tries++) {
            int port = FLOOR + Math.floorMod(NEXT.getAndIncrement(), CEILING - FLOOR);
            if (bindable(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free loopback port in " + FLOOR + ".." + CEILING);
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int ephemeralLow() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            int low = Integer.parseInt(range.split("\\s+")[0]);
            return low > FLOOR + 1_000 ? low : 32_768;
        } catch (IOException | RuntimeException e) {
            return 32_768; // Linux's default; elsewhere the range differs but the retry in the harness covers it
        }
    }
}
