package io.bulwark.proxy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT start the graceful stop. Handled as signals rather than in a shutdown hook
 * so that the process drains first and then exits 0: a SIGTERM is a normal stop, not a failure.
 */
final class Signals {

    private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

    private Signals() {
    }

    /**
     * SIGHUP reloads the config, on a thread of its own (a reload resolves DNS and may block).
     *
     * @return false when SIGHUP cannot reach this process: it was ignored when the JVM started (as
     *     {@code nohup} does; the JVM then leaves it ignored) or the JVM keeps it ({@code -Xrs})
     */
    static boolean onHangup(Runnable reload) {
        try {
            SignalHandler previous = Signal.handle(new Signal("HUP"), s -> {
                LOG.info("Received SIGHUP: reloading the config");
                Thread t = new Thread(reload, "bulwark-reload");
                t.setDaemon(true);
                t.start();
            });
            return previous != SignalHandler.SIG_IGN;
        } catch (IllegalArgumentException e) {
            LOG.debug("cannot handle SIGHUP: {}", e.getMessage());
            return false;
        }
    }

    static void onTerminate(Runnable stop) {
        Runnable once = new Runnable() {
            private boolean started;

            @Override
            public synchronized void run() {
                if (!started) {
                    started = true;
                    Thread t = new Thread(stop, "bulwark-shutdown");
                    t.start();
                }
            }
        };
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), s -> {
                    LOG.info("Received SIG{}", name);
                    once.run();
                });
            } catch (IllegalArgumentException e) {
                LOG.debug("cannot handle SIG{}: {}", name, e.getMessage());
            }
        }
    }
}
