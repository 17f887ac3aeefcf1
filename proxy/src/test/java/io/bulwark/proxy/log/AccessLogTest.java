package io.bulwark.proxy.log;

import io.bulwark.proxy.testing.AccessLogCapture;
import io.bulwark.routing.Clock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The refusal lines of the access log are rate-limited, and what is left out is counted. */
class AccessLogTest {

    /** A clock the test moves by hand. */
    static final class TestClock implements Clock {
        long nanos = 1_000_000_000L;

        @Override
        public long nanoTime() {
            return nanos;
        }

        @Override
        public long currentTimeMillis() {
            return nanos / 1_000_000;
        }
    }

    private static AccessLog.Entry refusal(String id) {
        return new AccessLog.Entry(0, id, "-", "-", 400, null, null, null, 0, 0, 0, 0, 90, "bad_request");
    }

    @Test
    void refusalsPastTheRateAreSkippedAndCounted() {
        TestClock clock = new TestClock();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AccessLog log = new AccessLog(registry, 3, clock);
        try (AccessLogCapture capture = new AccessLogCapture()) {
            for (int i = 0; i < 10; i++) {
                log.logRefusal(refusal("flood-" + i));
            }
            assertThat(capture.lines()).extracting(l -> l.get("request_id").asText())
                    .containsExactly("flood-0", "flood-1", "flood-2");
            assertThat(log.skipped()).isEqualTo(7);
            assertThat(registry.get("bulwark.access.log.skipped").counter().count()).isEqualTo(7.0);

            clock.nanos += 1_000_000_000L; // a second refills the bucket
            for (int i = 10; i < 15; i++) {
                log.logRefusal(refusal("flood-" + i));
            }
            assertThat(capture.lines()).hasSize(6);
            assertThat(log.skipped()).isEqualTo(9);
        }
    }

    @Test
    void ordinaryRequestsAreNeverSkipped() {
        TestClock clock = new TestClock();
        AccessLog log = new AccessLog(new SimpleMeterRegistry(), 1, clock);
        try (AccessLogCapture capture = new AccessLogCapture()) {
            log.logRefusal(refusal("first"));
            for (int i = 0; i < 5; i++) {
                log.log(refusal("request-" + i));
            }
            assertThat(capture.lines()).hasSize(6);
            assertThat(log.skipped()).isZero();
        }
    }
}
