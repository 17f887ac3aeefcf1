/**
 * The downstream side: the listener pipeline, one FrontendHandler per HTTP/1 connection (or an
 * Http2Frontend per HTTP/2 connection and an Http2StreamHandler per stream), one Exchange per
 * request (retries, timeouts, streaming), local replies, header rules, WebSocket tunnels.
 */
package io.bulwark.proxy.server;
