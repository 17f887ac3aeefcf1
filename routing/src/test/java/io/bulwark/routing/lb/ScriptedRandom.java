package io.bulwark.routing.lb;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.random.RandomGenerator;

/** A random source that hands out the ints a test scripted, to make sampling balancers deterministic. */
final class ScriptedRandom implements RandomGenerator {

    private final Deque<Integer> ints = new ArrayDeque<>();

    ScriptedRandom(int... values) {
        then(values);
    }

    ScriptedRandom then(int... values) {
        for (int v : values) {
            ints.add(v);
        }
        return this;
    }

    @Override
    public int nextInt(int bound) {
        if (ints.isEmpty()) {
            throw new AssertionError("random source asked for more values than scripted");
        }
        int value = ints.poll();
        if (value < 0 || value >= bound) {
            throw new AssertionError("scripted " + value + " but bound is " + bound);
        }
        return value;
    }

    @Override
    public long nextLong() {
        throw new AssertionError("only nextInt is scripted");
    }

    boolean exhausted() {
        return ints.isEmpty();
    }
}
