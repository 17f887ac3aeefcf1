package io.bulwark.proxy.fleet;

/**
 * The Lua scripts fleet mode runs in Redis, one call each, so every decision is atomic. Both read
 * Redis's own clock ({@code TIME}), so the sidecars' clocks never matter.
 */
final class FleetScripts {

    private FleetScripts() {
    }

    /**
     * A token bucket in a hash {@code {t = tokens, ts = microseconds}}: refill at ARGV[1] tokens/s
     * up to ARGV[2] (the burst), charge ARGV[3] owed tokens (even past empty, down to -10 bursts),
     * then grant up to ARGV[4]. Returns {@code {granted, ms until a token when granted < want}}.
     */
    static final String TAKE = """
            local rate = tonumber(ARGV[1])
            local burst = tonumber(ARGV[2])
            local owed = tonumber(ARGV[3])
            local want = tonumber(ARGV[4])
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local b = redis.call('HMGET', KEYS[1], 't', 'ts')
            local tokens = tonumber(b[1])
            local ts = tonumber(b[2])
            if tokens == nil or ts == nil then
              tokens = burst
              ts = now
            end
            if now > ts then
              tokens = math.min(burst, tokens + (now - ts) * rate / 1000000)
            end
            tokens = math.max(tokens - owed, -10 * burst)
            local granted = 0
            if tokens >= 1 then
              granted = math.min(want, math.floor(tokens))
              tokens = tokens - granted
            end
            local wait = 0
            if granted < want then
              wait = math.ceil((1 - tokens) * 1000 / rate)
            end
            redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
            redis.call('PEXPIRE', KEYS[1], math.ceil(11 * burst * 1000 / rate) + 1000)
            return {granted, wait}
            """;

    /**
     * The members' heartbeat: a sorted set of member ids by last-seen (Redis milliseconds). Adds or
     * refreshes ARGV[1], drops members not seen for ARGV[2] ms, returns the rest with their scores.
     */
    static final String HEARTBEAT = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            redis.call('ZADD', KEYS[1], now, ARGV[1])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
            redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
            return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
            """;
}
