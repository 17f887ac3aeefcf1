package io.bulwark.admin;

import java.util.List;

/**
 * What the admin API needs from fleet mode ({@code bulwark.fleet}): to hand an operator's
 * {@code ?scope=fleet} change to the fleet, and to show the fleet. Implemented by the proxy's Redis
 * client; every method is thread-safe and returns at once (Redis is written in the background).
 */
public interface FleetControl {

    /** This sidecar's member id in the fleet. */
    String memberId();

    /** Writes {@code entry} to the fleet's overrides in Redis and publishes it to every member. */
    void publish(FleetOverride entry);

    /** Removes the fleet's override of {@code kind} on an upstream, and publishes the removal as change {@code id}. */
    void remove(String cluster, String address, FleetOverride.Kind kind, String id);

    /** The fleet as this sidecar sees it, for {@code GET /api/v1/fleet}. */
    Status status();

    /**
     * @param redis the Redis URI, password redacted
     * @param connected whether the connection to Redis is up now
     * @param members the live members last seen (by heartbeat), this one included
     * @param lastChangeMillis when the connection state last changed (epoch millis)
     */
    record Status(String name, String redis, String mode, boolean connected, long lastChangeMillis,
                  List<Member> members, long quotaFetches, long quotaFailures, java.util.Map<String, Decisions> decisions) {
    }

    /** A global rate limit's decisions on this sidecar so far: by tokens Redis granted, or by its own share. */
    record Decisions(long byRedis, long byLocal) {
    }

    /**
     * Where the fleet client hands what it hears from Redis: the admin API's fleet layer
     * ({@link AdminApi#fleetListener()}). Called on the client's threads.
     */
    interface Listener {
        /** An override was set (published by a member, or found in the hash). */
        void applied(FleetOverride entry);

        /** An override was removed, by change {@code id} issued on member {@code origin}. */
        void removed(String cluster, String address, FleetOverride.Kind kind, String id, String origin);

        /** The whole hash, read at start and after each reconnect (before any message is applied). */
        void loaded(java.util.Collection<FleetOverride> all);

        /** Member {@code member} applied change {@code id}. */
        void seen(String id, String member);

        /** The fleet overrides this sidecar holds now (written back to a Redis that came back empty). */
        java.util.List<FleetOverride> current();
    }

    /** @param lastSeenMillis the member's last heartbeat, by Redis's clock */
    record Member(String id, long lastSeenMillis) {
    }
}
