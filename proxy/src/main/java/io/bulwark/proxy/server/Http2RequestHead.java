package io.bulwark.proxy.server;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2Headers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An HTTP/2 request's header block as the HTTP/1.1 request it becomes upstream (RFC 9113 §8):
 * the pseudo-headers make the request line and {@code Host}, cookie crumbs are joined again, and
 * whatever HTTP/1 could read differently from HTTP/2 is refused — connection-specific fields,
 * {@code te} other than {@code trailers}, CR/LF/NUL or edge whitespace in a value, a {@code Host}
 * that disagrees with {@code :authority}, user info in the authority. A body without a
 * {@code content-length} goes upstream chunked; Netty checks DATA against a declared length.
 */
final class Http2RequestHead {

    /** The request, or why it is malformed (a 400). */
    record Result(HttpRequest request, String problem) {
        static Result malformed(String problem) {
            return new Result(null, problem);
        }
    }

    private static final List<String> CONNECTION_SPECIFIC = List.of(
            "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade");

    private Http2RequestHead() {
    }

    /**
     * @param endStream the HEADERS frame ended the stream: the request has no body
     */
    static Result translate(Http2Headers h2, boolean endStream) {
        CharSequence method = h2.method();
        CharSequence path = h2.path();
        CharSequence scheme = h2.scheme();
        CharSequence authority = h2.authority();
        if (method == null || path == null || scheme == null || path.length() == 0) {
            return Result.malformed("an HTTP/2 request needs :method, :scheme and :path");
        }
        if (h2.contains(Http2Headers.PseudoHeaderName.PROTOCOL.value())) {
            return Result.malformed("extended CONNECT (:protocol) is not supported");
        }
        HttpMethod httpMethod;
        try {
            httpMethod = HttpMethod.valueOf(method.toString());
        } catch (IllegalArgumentException e) {
            return Result.malformed("invalid :method");
        }
        HttpHeaders headers = new DefaultHttpHeaders();
        List<String> cookies = null;
        for (Map.Entry<CharSequence, CharSequence> field : h2) {
            String name = field.getKey().toString();
            String value = field.getValue().toString();
            if (!name.isEmpty() && name.charAt(0) == ':') {
                continue; // pseudo-headers: read above (Netty refuses unknown and misplaced ones)
            }
            String bad = badValue(value);
            if (bad != null) {
                return Result.malformed("header " + name + ": " + bad);
            }
            if (CONNECTION_SPECIFIC.contains(name)) {
                return Result.malformed("connection-specific header " + name + " in an HTTP/2 request");
            }
            if (name.equals("te") && !value.equalsIgnoreCase("trailers")) {
                return Result.malformed("te other than \"trailers\" in an HTTP/2 request");
            }
            if (name.equals("cookie")) {
                if (cookies == null) {
                    cookies = new ArrayList<>(2);
                }
                cookies.add(value);
                continue;
            }
            headers.add(name, value);
        }
        if (cookies != null) {
            headers.set(HttpHeaderNames.COOKIE, String.join("; ", cookies)); // RFC 9113 §8.2.3
        }
        if (authority != null) {
            String a = authority.toString();
            if (a.indexOf('@') >= 0) {
                return Result.malformed(":authority must not carry user info");
            }
            List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
            if (hosts.size() > 1 || hosts.size() == 1 && !hosts.get(0).equalsIgnoreCase(a)) {
                return Result.malformed("Host disagrees with :authority");
            }
            headers.set(HttpHeaderNames.HOST, a);
        }
        if (!endStream && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            // A body of unannounced length: HTTP/1 frames it in chunks.
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return new Result(new DefaultHttpRequest(HttpVersion.HTTP_1_1, httpMethod, path.toString(), headers), null);
    }

    /**
     * What is wrong with a field value as HTTP/1 would read it (RFC 9113 §8.2.1), or null: CR, LF
     * and NUL would split or end the field upstream; edge whitespace would be trimmed there but not here.
     */
    static String badValue(CharSequence value) {
        int n = value.length();
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0) {
                return "CR, LF or NUL in a field value";
            }
        }
        if (n > 0 && (isSpace(value.charAt(0)) || isSpace(value.charAt(n - 1)))) {
            return "whitespace at the edge of a field value";
        }
        return null;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t';
    }
}
