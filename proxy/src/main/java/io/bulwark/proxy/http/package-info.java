/**
 * Strict HTTP/1 syntax checks that run on the raw bytes ahead of Netty's (more lenient) decoder,
 * so that ambiguous or malformed requests are refused before anything is forwarded
 * ({@link io.bulwark.proxy.http.StrictHttpScanner}), and request-path normalization for matching
 * ({@link io.bulwark.proxy.http.PathNormalizer}).
 */
package io.bulwark.proxy.http;
