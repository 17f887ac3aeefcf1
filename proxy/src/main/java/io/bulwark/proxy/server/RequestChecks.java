package io.bulwark.proxy.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

import java.util.List;
import java.util.Locale;

/**
 * Request checks beyond what Netty's decoder enforces (it already rejects Content-Length with
 * Transfer-Encoding, conflicting lengths and a non-final chunked coding). Anything ambiguous is
 * refused: a proxy that forwards it is a smuggling hole for everything behind it.
 */
final class RequestChecks {

    /**
     * Why a request is refused: the reply (400 for anything malformed or ambiguous, CONTRACT §3) and
     * the message it carries.
     */
    record Problem(LocalReply reply, String message) {
        static Problem badRequest(String message) {
            return new Problem(LocalReply.BAD_REQUEST, message);
        }
    }


    private RequestChecks() {
    }

    /** What is wrong with the request, or null when it may be proxied. */
    static Problem problem(HttpRequest request) {
        HttpVersion version = request.protocolVersion();
        if (version.majorVersion() != 1 || (version.minorVersion() != 0 && version.minorVersion() != 1)) {
            return Problem.badRequest("HTTP version " + version.text() + " is not supported (HTTP/1.0 and HTTP/1.1 are)");
        }
        HttpHeaders headers = request.headers();
        List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            return Problem.badRequest("more than one Host header");
        }
        if (version == HttpVersion.HTTP_1_1 && hosts.isEmpty()) {
            return Problem.badRequest("missing Host header");
        }
        if (!hosts.isEmpty() && !validHost(hosts.get(0))) {
            return Problem.badRequest("invalid Host header");
        }
        List<String> codings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!codings.isEmpty()) {
            String joined = String.join(",", codings).trim().toLowerCase(Locale.ROOT);
            if (!joined.equals("chunked")) {
                return Problem.badRequest("Transfer-Encoding must be exactly \"chunked\"");
            }
        }
        String uri = request.uri();
        boolean absolute = uri.regionMatches(true, 0, "http://", 0, 7) || uri.regionMatches(true, 0, "https://", 0, 8);
        if (uri.isEmpty() || (uri.charAt(0) != '/' && !uri.equals("*") && !absolute)) {
            return Problem.badRequest("request target must be in origin or absolute form");
        }
        if (uri.equals("*") && !request.method().name().equals("OPTIONS")) {
            return Problem.badRequest("the asterisk target is only for OPTIONS");
        }
        return null;
    }

    /** host or host:port with an optional bracketed IPv6 literal; no spaces, no user info, no path. */
    static boolean validHost(String host) {
        if (host.isEmpty() || host.length() > 255) {
            return false;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
