/**
 * Strict HTTP/1 syntax checks that run on the raw bytes ahead of Netty's (more lenient) decoder,
 * so that ambiguous or malformed requests are refused before anything is forwarded.
 */
package io.bulwark.proxy.http;
