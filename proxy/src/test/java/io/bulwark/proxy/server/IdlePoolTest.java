package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Pools keep no connection to an upstream they rarely use past pool.idle-timeout, while a busy one stays pooled. */
class IdlePoolTest {

    @Test
    void aRarelyUsedUpstreamsConnectionClosesAfterTheIdleTimeoutWhileABusyOneIsReused() throws Exception {
        try (TestUpstream hot = TestUpstream.start("hot", TestUpstream.echo("hot"));
             TestUpstream cold = TestUpstream.start("cold", TestUpstream.echo("cold"));
             ProxyHarness proxy = ProxyHarness.start("""
                     clusters {
                       hot { endpoints = [ "%s" ], pool { idle-timeout = 1s } }
                       cold { endpoints = [ "%s" ], pool { idle-timeout = 1s } }
                     }
                     routes = [
                       { name = cold, match { path-prefix = "/cold" }, cluster = cold }
                       { name = hot, match { path-prefix = "/" }, cluster = hot }
                     ]
                     """.formatted(hot.address(), cold.address()))) {
            assertThat(proxy.get("/cold/once").statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(5)).until(() -> cold.openConnections() == 1);

            // Traffic to the hot upstream for longer than the idle timeout: the cold connection must go anyway.
            long until = System.nanoTime() + Duration.ofMillis(1_500).toNanos();
            int sent = 0;
            while (System.nanoTime() < until || cold.openConnections() > 0) {
                assertThat(proxy.get("/hot/" + sent++).statusCode()).isEqualTo(200);
                assertThat(sent).as("the cold connection outlived the idle timeout").isLessThan(100_000);
            }
            assertThat(cold.openConnections()).isZero();
            assertThat(hot.openConnections()).as("the busy upstream's connection is still pooled").isPositive();
            assertThat(hot.connectionsAccepted()).isLessThan(sent);
        }
    }
}
