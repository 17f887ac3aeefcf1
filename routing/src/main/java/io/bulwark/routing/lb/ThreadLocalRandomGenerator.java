package io.bulwark.routing.lb;

import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * The balancers' default random source: {@link ThreadLocalRandom} of whichever thread asks, so a
 * balancer created on one thread and used on another still never shares a generator.
 */
final class ThreadLocalRandomGenerator implements RandomGenerator {

    static final ThreadLocalRandomGenerator INSTANCE = new ThreadLocalRandomGenerator();

    private ThreadLocalRandomGenerator() {
    }

    @Override
    public long nextLong() {
        return ThreadLocalRandom.current().nextLong();
    }

    @Override
    public int nextInt(int bound) {
        return ThreadLocalRandom.current().nextInt(bound);
    }

    @Override
    public double nextDouble() {
        return ThreadLocalRandom.current().nextDouble();
    }
}
