/**
 * Active health checking: the Netty side (probes on their own connections) of the state
 * machines in {@code io.bulwark.routing.health}.
 */
package io.bulwark.proxy.health;
