package io.bulwark.routing;

/**
 * The parts of a downstream request that routing and load balancing look at. The proxy
 * implements it over its decoded request without copying.
 */
public interface RequestView {

    /** Upper-case method, e.g. {@code GET}. */
    String method();

    /** The request's host (from the Host header or absolute-form target), lower case, without port; "" if none. */
    String host();

    /** The normalised path without the query string, e.g. {@code /users/42}. */
    String path();

    /** First value of a header (name matched case-insensitively), or null. */
    String header(String name);

    /** Value of a cookie from the Cookie header(s), or null. */
    String cookie(String name);

    /** The client's IP address as text. */
    String clientIp();
}
