/**
 * Upstream connections: one pool per event loop, with a per-upstream cap shared by all loops.
 */
package io.bulwark.proxy.pool;
