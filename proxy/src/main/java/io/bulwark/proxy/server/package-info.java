/**
 * The downstream side: the listener pipeline, one FrontendHandler per connection, one Exchange per request (retries, timeouts, streaming), local replies, header rules, WebSocket tunnels.
 */
package io.bulwark.proxy.server;
