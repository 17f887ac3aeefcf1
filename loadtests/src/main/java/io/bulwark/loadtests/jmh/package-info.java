/**
 * JMH microbenchmarks of what must not grow with the size of the world: route matching against
 * thousands of routes, load-balancer picks and host-set rebuilds at a thousand upstreams. Built into
 * {@code loadtests/target/benchmarks.jar} by the {@code jmh} profile; never part of the test run.
 */
package io.bulwark.loadtests.jmh;
