package io.bulwark.proxy.server;

import io.bulwark.config.FaultConfig;
import io.bulwark.routing.Route;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Chaos injection per route: delay some requests, abort some with a status. A route's config
 * block is the default; an operator can switch it at run time through the admin API (by route
 * name, so the switch survives a reload of an unchanged route name).
 */
public final class FaultInjection {

    /** What to do to one request: nothing, wait, or answer at once with {@code abortStatus}. */
    record Decision(long delayNanos, int abortStatus) {
        static final Decision NONE = new Decision(0, 0);
    }

    private final Map<String, FaultConfig> overrides = new ConcurrentHashMap<>();

    /** The fault settings in force for {@code route}: the operator's, else the route's config. */
    public FaultConfig effective(Route route) {
        FaultConfig override = overrides.get(route.name());
        return override != null ? override : route.config().fault();
    }

    /** Replaces the route's faults until the next call (or a restart); {@link FaultConfig#NONE} turns them off. */
    public void set(String routeName, FaultConfig fault) {
        overrides.put(routeName, fault);
    }

    Decision decide(Route route) {
        FaultConfig fault = effective(route);
        if (!fault.active()) {
            return Decision.NONE;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        if (fault.abort().percent() > 0 && random.nextDouble() * 100 < fault.abort().percent()) {
            return new Decision(0, fault.abort().status());
        }
        if (fault.delay().percent() > 0 && !fault.delay().duration().isZero()
                && random.nextDouble() * 100 < fault.delay().percent()) {
            return new Decision(fault.delay().duration().toNanos(), 0);
        }
        return Decision.NONE;
    }
}
