package io.bulwark.routing.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.bulwark.config.RateLimitConfig;
import io.bulwark.routing.Clock;

/**
 * The {@code scope = global} side of a route's rate limit: one token bucket per key for the whole
 * fleet, kept in Redis by a {@link QuotaSource}, decided here without ever waiting for Redis.
 *
 * <h2>How a request is decided</h2>
 * Each key has a {@link Cell} of tokens Redis granted this sidecar ahead of need (a batch of
 * {@code max(1, rate / (members * 10))}, capped at the burst, fetched again when half is used).
 * <ol>
 * <li>A granted token is left: the request takes it ({@code by = redis}).</li>
 * <li>Redis said the fleet bucket is empty: refused until it said a token comes ({@code by = redis}).</li>
 * <li>Nothing granted yet (the first request of a key, or the batch ran out before the next one
 *     came): this sidecar's own share decides — a local bucket of {@code rate / members} and
 *     {@code burst / members} — and a request it lets through is <em>owed</em>: charged to the fleet
 *     bucket with the next fetch, even past empty, so the fleet's long-run rate still holds
 *     ({@code by = local}).</li>
 * <li>Redis is down (or a fetch took longer than the fleet timeout): the local share decides alone,
 *     or every request is refused with {@code on-redis-down = deny} ({@code by = local}).</li>
 * </ol>
 * <b>Accuracy.</b> Tokens are taken from the fleet bucket when fetched, not when used, so up to one
 * batch per sidecar and key (at most a tenth of a second of the rate across the fleet) may sit
 * unused while another sidecar is refused; granted tokens older than {@value #MAX_TOKEN_AGE_MS} ms
 * are dropped so a stale batch cannot add a burst later. Requests let through on credit in (3)
 * are charged afterwards: the rate holds over seconds, a single second may overshoot by about one
 * local share's burst.
 *
 * <p>Thread-safe: a cell is locked for a few field updates only, never across a Redis call.
 */
public final class GlobalRateLimiter {

    /** Granted tokens older than this are dropped unused. */
    static final long MAX_TOKEN_AGE_MS = 1000;

    private final String route;
    private final RateLimitConfig config;
    private final Clock clock;
    private final QuotaSource quota;
    private final long timeoutNanos;
    private final Cache<String, Cell> cells;

    /**
     * @param maxKeys per-key cells kept at most (least used evicted first)
     */
    public GlobalRateLimiter(String route, RateLimitConfig config, Clock clock, QuotaSource quota, long maxKeys) {
        this.route = route;
        this.config = config;
        this.clock = clock;
        this.quota = quota;
        this.timeoutNanos = quota.timeout().toNanos();
        this.cells = Caffeine.newBuilder()
                .maximumSize(maxKeys)
                .expireAfterAccess(RouteRateLimiter.refillTime(config).plusSeconds(1))
                .executor(Runnable::run)
                .ticker(clock::nanoTime)
                .build();
    }

    /** Decides one request counted under {@code key} (see the class comment). */
    public RateLimitDecision tryAcquire(String key) {
        Cell cell = cells.getIfPresent(key);
        if (cell == null) {
            cell = cells.get(key, Cell::new);
        }
        return cell.decide();
    }

    /** The tokens one fetch asks for with {@code members} live: a tenth of a second of this sidecar's share. */
    long batch(int members) {
        double share = config.requestsPerSecond() / Math.max(1, members) / 10;
        return (long) Math.max(1, Math.min(config.burst(), Math.floor(share)));
    }

    /** One key's state on this sidecar. */
    private final class Cell {
        private final String key;
        /** Tokens Redis granted and no request took yet. */
        private long tokens;
        /** When the newest batch came ({@link Clock#nanoTime()}). */
        private long grantedAt;
        /** Requests let through on the local share while Redis was up, to be charged with the next fetch. */
        private long owed;
        /** Redis said the fleet bucket is empty until then; 0 when it did not. */
        private long deniedUntil;
        private boolean denied;
        private boolean fetching;
        private long fetchStarted;
        /** This sidecar's own share, for members = {@link #shareMembers}. */
        private TokenBucket share;
        private int shareMembers;

        Cell(String key) {
            this.key = key;
        }

        synchronized RateLimitDecision decide() {
            long now = clock.nanoTime();
            boolean redis = quota.up() && !(fetching && now - fetchStarted > timeoutNanos);
            if (!redis) {
                quota.recordDecision(route, false);
                if (quota.denyWhenDown()) {
                    return new RateLimitDecision(false, 0, 1_000_000_000L, 1_000_000_000L);
                }
                return share().tryAcquire();
            }
            if (tokens > 0 && now - grantedAt > MAX_TOKEN_AGE_MS * 1_000_000L) {
                tokens = 0;
            }
            if (tokens > 0) {
                tokens--;
                fetchIfLow(now);
                quota.recordDecision(route, true);
                return new RateLimitDecision(true, tokens, 0, 1_000_000_000L);
            }
            if (denied && deniedUntil - now > 0) {
                quota.recordDecision(route, true);
                return new RateLimitDecision(false, 0, deniedUntil - now, deniedUntil - now);
            }
            denied = false;
            RateLimitDecision d = share().tryAcquire();
            if (d.allowed()) {
                owed++;
            }
            fetchIfLow(now);
            quota.recordDecision(route, false);
            return d;
        }

        private TokenBucket share() {
            int members = Math.max(1, quota.liveMembers());
            if (share == null || members != shareMembers) {
                shareMembers = members;
                share = new TokenBucket(config.requestsPerSecond() / members,
                        (int) Math.max(1, config.burst() / members), clock);
            }
            return share;
        }

        /** Starts a fetch when the granted tokens are down to half a batch and none is under way. */
        private void fetchIfLow(long now) {
            long want = batch(quota.liveMembers());
            if (fetching || tokens > want / 2 || !quota.up() || denied && deniedUntil - now > 0) {
                return;
            }
            fetching = true;
            fetchStarted = now;
            long charged = owed;
            owed = 0;
            quota.take(route, key, config.requestsPerSecond(), config.burst(), charged, want)
                    .whenComplete((grant, error) -> granted(want, grant, error));
        }

        private synchronized void granted(long want, QuotaSource.Grant grant, Throwable error) {
            fetching = false;
            if (error != null || grant == null) {
                return; // what was owed is forgiven: Redis may never have seen it, and the outage is the local share's
            }
            long now = clock.nanoTime();
            tokens += grant.granted();
            grantedAt = now;
            if (grant.granted() < want) {
                denied = true;
                deniedUntil = now + Math.max(1, grant.retryAfterMillis()) * 1_000_000L;
            }
        }
    }

    /** Per-key cells held now (approximate). */
    public long trackedKeys() {
        return cells.estimatedSize();
    }
}
