/**
 * The data plane's and the upstream state's Prometheus meters, with bounded tags.
 */
package io.bulwark.proxy.metrics;
