package io.bulwark.routing.ratelimit;

import io.bulwark.config.RateLimitConfig;
import io.bulwark.config.RateLimitConfig.Key;
import io.bulwark.routing.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A {@code scope = global} limit decides from what it holds and never waits for Redis; the fake
 * quota source here answers only when the test says so, as a Redis round trip would later.
 */
class GlobalRateLimiterTest {

    private final ManualClock clock = new ManualClock();

    /** The fleet's side: records each fetch and leaves it outstanding until the test answers it. */
    static final class FakeQuota implements QuotaSource {
        record Fetch(String route, String key, long owed, long want, CompletableFuture<Grant> reply) {
        }

        final List<Fetch> fetches = new ArrayList<>();
        boolean up = true;
        int members = 1;
        boolean deny;
        int byRedis;
        int byLocal;

        @Override
        public CompletionStage<Grant> take(String route, String key, double rate, int burst, long owed, long want) {
            Fetch f = new Fetch(route, key, owed, want, new CompletableFuture<>());
            fetches.add(f);
            return f.reply();
        }

        @Override
        public boolean up() {
            return up;
        }

        @Override
        public int liveMembers() {
            return members;
        }

        @Override
        public boolean denyWhenDown() {
            return deny;
        }

        @Override
        public Duration timeout() {
            return Duration.ofMillis(100);
        }

        @Override
        public void recordDecision(String route, boolean redis) {
            if (redis) {
                byRedis++;
            } else {
                byLocal++;
            }
        }

        Fetch last() {
            return fetches.get(fetches.size() - 1);
        }
    }

    private final FakeQuota quota = new FakeQuota();

    private RouteRateLimiter limiter(double rps, int burst) {
        return new RouteRateLimiter("api", new RateLimitConfig(rps, burst, new Key(Key.Kind.ROUTE, ""),
                RateLimitConfig.Scope.GLOBAL), clock, quota);
    }

    @Test
    void theFirstRequestIsDecidedByTheLocalShareAndOwedToTheFleetBucket() {
        RouteRateLimiter limiter = limiter(100, 100);

        assertThat(limiter.tryAcquire("").allowed()).isTrue();

        assertThat(quota.fetches).hasSize(1);
        assertThat(quota.last().owed()).as("the request let through before Redis answered is charged").isEqualTo(1);
        assertThat(quota.last().want()).as("a tenth of a second of the rate").isEqualTo(10);
        assertThat(quota.byLocal).isEqualTo(1);
    }

    @Test
    void grantedTokensDecideWithoutAskingRedisAgainUntilHalfAreUsed() {
        RouteRateLimiter limiter = limiter(100, 100);
        limiter.tryAcquire("");
        quota.last().reply().complete(new QuotaSource.Grant(10, 0));

        for (int i = 0; i < 4; i++) {
            assertThat(limiter.tryAcquire("").allowed()).isTrue();
        }
        assertThat(quota.fetches).as("still 6 of 10 left: no new fetch").hasSize(1);
        assertThat(limiter.tryAcquire("").allowed()).isTrue();
        assertThat(quota.fetches).as("down to half a batch: the next one is on its way").hasSize(2);
        assertThat(quota.last().owed()).isZero();
        assertThat(quota.byRedis).isEqualTo(5);
    }

    @Test
    void whenRedisSaysTheBucketIsEmptyRequestsAreRefusedUntilItSaidATokenComes() {
        RouteRateLimiter limiter = limiter(10, 10);
        limiter.tryAcquire("");
        quota.last().reply().complete(new QuotaSource.Grant(0, 400));

        RateLimitDecision refused = limiter.tryAcquire("");
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfterNanos()).isEqualTo(Duration.ofMillis(400).toNanos());
        assertThat(quota.fetches).as("no fetch while Redis said empty").hasSize(1);

        clock.advance(Duration.ofMillis(400));
        assertThat(limiter.tryAcquire("").allowed()).as("the local share again, and a fetch").isTrue();
        assertThat(quota.fetches).hasSize(2);
    }

    @Test
    void withRedisDownTheLocalShareIsTheRateDividedByTheLiveMembers() {
        quota.up = false;
        quota.members = 4;
        RouteRateLimiter limiter = limiter(40, 40);

        int allowed = 0;
        for (int i = 0; i < 30; i++) {
            allowed += limiter.tryAcquire("").allowed() ? 1 : 0;
        }
        assertThat(allowed).as("a burst of 40 / 4").isEqualTo(10);
        clock.advance(Duration.ofSeconds(1));
        allowed = 0;
        for (int i = 0; i < 30; i++) {
            allowed += limiter.tryAcquire("").allowed() ? 1 : 0;
        }
        assertThat(allowed).as("10/s refill").isEqualTo(10);
        assertThat(quota.fetches).as("nothing asked of a Redis that is down").isEmpty();
        assertThat(quota.byRedis).isZero();
    }

    @Test
    void onRedisDownDenyRefusesEverything() {
        quota.up = false;
        quota.deny = true;
        RouteRateLimiter limiter = limiter(40, 40);

        RateLimitDecision d = limiter.tryAcquire("");
        assertThat(d.allowed()).isFalse();
        assertThat(d.retryAfterSeconds()).isEqualTo(1);
    }

    @Test
    void aFetchOutstandingPastTheTimeoutCountsAsRedisDown() {
        quota.members = 2;
        RouteRateLimiter limiter = limiter(20, 20);
        limiter.tryAcquire("");            // fetch 1 starts, never answered
        clock.advance(Duration.ofMillis(150));

        int allowed = 1;
        for (int i = 0; i < 30; i++) {
            allowed += limiter.tryAcquire("").allowed() ? 1 : 0;
        }
        assertThat(allowed).as("the first, then a full local share of 20 / 2 members").isEqualTo(11);
        assertThat(quota.fetches).as("no second fetch piles up").hasSize(1);

        quota.last().reply().completeExceptionally(new RuntimeException("timed out"));
        limiter.tryAcquire("");
        assertThat(quota.fetches).as("asked again once the first one ended").hasSize(2);
    }

    @Test
    void grantedTokensOlderThanASecondAreDropped() {
        RouteRateLimiter limiter = limiter(100, 100);
        limiter.tryAcquire("");
        quota.last().reply().complete(new QuotaSource.Grant(10, 0));
        clock.advance(Duration.ofMillis(GlobalRateLimiter.MAX_TOKEN_AGE_MS + 1));

        limiter.tryAcquire("");

        assertThat(quota.byRedis).as("the stale batch is not used").isZero();
    }

    @Test
    void eachKeyHasItsOwnFleetBucket() {
        RouteRateLimiter limiter = new RouteRateLimiter("api", new RateLimitConfig(10, 10,
                new Key(Key.Kind.CLIENT_IP, ""), RateLimitConfig.Scope.GLOBAL), clock, quota);

        limiter.tryAcquire("10.0.0.1");
        limiter.tryAcquire("10.0.0.2");

        assertThat(quota.fetches).extracting(FakeQuota.Fetch::key).containsExactly("10.0.0.1", "10.0.0.2");
        assertThat(limiter.trackedKeys()).isEqualTo(2);
    }
}
