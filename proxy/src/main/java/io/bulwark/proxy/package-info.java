/**
 * The process: the command line (Main), the running proxy and its lifecycle (Bulwark), routing snapshots and their reload, per-snapshot resilience policies, cluster maintenance.
 */
package io.bulwark.proxy;
