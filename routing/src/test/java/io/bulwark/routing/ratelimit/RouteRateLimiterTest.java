package io.bulwark.routing.ratelimit;

import io.bulwark.config.RateLimitConfig;
import io.bulwark.config.RateLimitConfig.Key;
import io.bulwark.routing.ManualClock;
import io.bulwark.routing.TestRequest;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class RouteRateLimiterTest {

    private final ManualClock clock = new ManualClock();

    private static RateLimitConfig config(double rps, int burst, Key.Kind kind, String header) {
        return new RateLimitConfig(rps, burst, new Key(kind, header));
    }

    private RouteRateLimiter limiter(double rps, int burst, Key.Kind kind) {
        return new RouteRateLimiter("users-api", config(rps, burst, kind, kind == Key.Kind.HEADER ? "x-user-id" : ""), clock);
    }

    @Test
    void routeKeySharesOneBucketAcrossClients() {
        RouteRateLimiter limiter = limiter(1, 2, Key.Kind.ROUTE);

        assertThat(limiter.tryAcquire(TestRequest.get("/").clientIp("10.0.0.1")).allowed()).isTrue();
        assertThat(limiter.tryAcquire(TestRequest.get("/").clientIp("10.0.0.2")).allowed()).isTrue();
        assertThat(limiter.tryAcquire(TestRequest.get("/").clientIp("10.0.0.3")).allowed()).isFalse();
        assertThat(limiter.trackedKeys()).isEqualTo(1);
    }

    @Test
    void clientIpKeysGetABucketEach() {
        RouteRateLimiter limiter = limiter(1, 1, Key.Kind.CLIENT_IP);

        assertThat(limiter.tryAcquire(TestRequest.get("/").clientIp("10.0.0.1")).allowed()).isTrue();
        assertThat(limiter.tryAcquire(TestRequest.get("/").clientIp("10.0.0.1")).allowed()).isFalse();
        assertThat(limiter.tryAcquire(TestRequest.get("/").clientIp("10.0.0.2")).allowed()).isTrue();
    }

    @Test
    void headerKeysGetABucketPerValueAndAMissingHeaderSharesTheEmptyKey() {
        RouteRateLimiter limiter = limiter(1, 1, Key.Kind.HEADER);

        assertThat(limiter.tryAcquire(TestRequest.get("/").header("x-user-id", "alice")).allowed()).isTrue();
        assertThat(limiter.tryAcquire(TestRequest.get("/").header("x-user-id", "bob")).allowed()).isTrue();
        assertThat(limiter.tryAcquire(TestRequest.get("/").header("x-user-id", "alice")).allowed()).isFalse();

        assertThat(limiter.keyOf(TestRequest.get("/"))).isEmpty();
        assertThat(limiter.tryAcquire(TestRequest.get("/").clientIp("10.0.0.1")).allowed()).isTrue();
        assertThat(limiter.tryAcquire(TestRequest.get("/").clientIp("10.0.0.2")).allowed()).isFalse();
    }

    @Test
    void refusalCarriesRetryAfterInWholeSecondsOfAtLeastOne() {
        RouteRateLimiter fast = limiter(100, 1, Key.Kind.ROUTE);
        fast.tryAcquire("");
        RateLimitDecision soon = fast.tryAcquire("");
        assertThat(soon.retryAfterNanos()).isEqualTo(Duration.ofMillis(10).toNanos());
        assertThat(soon.retryAfterSeconds()).isEqualTo(1);

        RouteRateLimiter slow = limiter(0.25, 1, Key.Kind.ROUTE);
        slow.tryAcquire("");
        clock.advance(Duration.ofMillis(500));
        assertThat(slow.tryAcquire("").retryAfterSeconds()).isEqualTo(4); // 3.5s rounded up
        assertThat(slow.refusedCount()).isEqualTo(1);
        assertThat(fast.refusedCount()).isEqualTo(1);
    }

    @Test
    void policyHeaderNamesTheRouteTheBurstAndTheRefillWindow() {
        assertThat(limiter(100, 100, Key.Kind.ROUTE).policyHeader()).isEqualTo("\"users-api\";q=100;w=1");
        assertThat(limiter(10, 100, Key.Kind.ROUTE).policyHeader()).isEqualTo("\"users-api\";q=100;w=10");
        assertThat(limiter(3, 10, Key.Kind.ROUTE).policyHeader()).isEqualTo("\"users-api\";q=10;w=4");
    }

    @Test
    void rateLimitHeaderGivesRemainingTokensAndSecondsUntilFull() {
        RouteRateLimiter limiter = limiter(10, 20, Key.Kind.ROUTE);
        RateLimitDecision d = null;
        for (int i = 0; i < 15; i++) {
            d = limiter.tryAcquire("");
        }
        assertThat(limiter.rateLimitHeader(d)).isEqualTo("\"users-api\";r=5;t=2"); // 1.5s of debt
        for (int i = 0; i < 5; i++) {
            d = limiter.tryAcquire("");
        }
        RateLimitDecision refused = limiter.tryAcquire("");
        assertThat(limiter.rateLimitHeader(refused)).isEqualTo("\"users-api\";r=0;t=2");
    }

    @Test
    void routeNamesAreQuotedAsStructuredFieldStrings() {
        assertThat(RouteRateLimiter.structuredString("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
    }

    @Test
    void aFloodOfDistinctKeysKeepsTheCacheBounded() {
        long max = 10_000;
        RouteRateLimiter limiter = new RouteRateLimiter("r", config(1, 1, Key.Kind.CLIENT_IP, ""), clock, max);

        int allowed = 0;
        for (int i = 0; i < 1_000_000; i++) {
            if (limiter.tryAcquire("client-" + i).allowed()) {
                allowed++;
            }
        }
        limiter.cleanUp();

        assertThat(allowed).as("every new key starts with a full bucket").isEqualTo(1_000_000);
        assertThat(limiter.trackedKeys()).isLessThanOrEqualTo(max);
    }

    @Test
    void idleBucketsExpireOnceTheyWouldBeFullAgain() {
        RouteRateLimiter limiter = limiter(1, 5, Key.Kind.CLIENT_IP); // 5s to refill
        limiter.tryAcquire("10.0.0.1");
        limiter.tryAcquire("10.0.0.2");

        clock.advance(Duration.ofSeconds(4));
        limiter.cleanUp();
        assertThat(limiter.trackedKeys()).isEqualTo(2);

        clock.advance(Duration.ofSeconds(2));
        limiter.cleanUp();
        assertThat(limiter.trackedKeys()).isZero();
    }

    @Test
    void longKeysAreStoredAsTheirDigestButStillKeptApart() {
        String a = "a".repeat(10_000);
        String b = "a".repeat(9_999) + "b";
        assertThat(RouteRateLimiter.storedKey(a)).hasSizeLessThan(RouteRateLimiter.MAX_KEY_LENGTH).isNotEqualTo(RouteRateLimiter.storedKey(b));

        RouteRateLimiter limiter = limiter(1, 1, Key.Kind.HEADER);
        assertThat(limiter.tryAcquire(a).allowed()).isTrue();
        assertThat(limiter.tryAcquire(b).allowed()).isTrue();
        assertThat(limiter.tryAcquire(a).allowed()).isFalse();
    }
}
