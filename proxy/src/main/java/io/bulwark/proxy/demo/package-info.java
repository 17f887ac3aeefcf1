/**
 * The {@code bulwark demo} command's upstream side: {@link io.bulwark.proxy.demo.DemoUpstreams}
 * runs three small in-process HTTP servers (healthy, slow, flaky) on loopback and supplies the
 * built-in config ({@code demo.conf}) that puts the proxy in front of them. Not used by
 * {@code run}; nothing here is on the proxy's request path.
 */
package io.bulwark.proxy.demo;
