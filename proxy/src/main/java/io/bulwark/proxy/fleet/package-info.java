/**
 * Fleet mode ({@code bulwark.fleet}): the sidecars of one service share global rate limits, operator
 * overrides and a members list through Redis ({@link io.bulwark.proxy.fleet.RedisFleet}, Lettuce on
 * its own one-thread event loop). The data plane never waits for Redis.
 */
package io.bulwark.proxy.fleet;
