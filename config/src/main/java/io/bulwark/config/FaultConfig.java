package io.bulwark.config;

import java.time.Duration;

/** Chaos injection on a route: delay some requests, abort some with a status. */
public record FaultConfig(Delay delay, Abort abort) {

    public static final FaultConfig NONE = new FaultConfig(new Delay(0, Duration.ZERO), new Abort(0, 503));

    public boolean active() {
        return (delay.percent() > 0 && !delay.duration().isZero()) || abort.percent() > 0;
    }

    public record Delay(double percent, Duration duration) {
    }

    public record Abort(double percent, int status) {
    }
}
