/**
 * Active health checking: the Netty side (probes over one kept-alive connection per upstream) of the state
 * machines in {@code io.bulwark.routing.health}.
 */
package io.bulwark.proxy.health;
