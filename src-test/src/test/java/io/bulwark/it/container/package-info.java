/**
 * Whole-image tests: the container image {@code bulwark:local} (built by
 * {@code docker/build-image.sh}) run by Testcontainers with host networking, in front of
 * WireMock upstreams in the test JVM, all over 127.0.0.1. They skip, with one line saying why,
 * where Docker or the image is missing, and fail instead under {@code CI=true}.
 */
package io.bulwark.it.container;
