package io.bulwark.proxy.http;

/**
 * A downstream request broke HTTP/1.1's message syntax (RFC 9112) in a way the proxy refuses:
 * fired as a user event towards the {@code FrontendHandler}, which answers {@code status} with the
 * {@code bad_request} (or matching) local reply and closes the connection. Nothing of a request
 * that caused a violation in its head has been forwarded; a violation in a body aborts the
 * request in flight.
 *
 * @param status 400: every malformed or ambiguous request is a {@code bad_request} (CONTRACT §3)
 * @param reason what was wrong, for the JSON error message (no request bytes echoed raw)
 */
public record HttpViolation(int status, String reason) {
}
