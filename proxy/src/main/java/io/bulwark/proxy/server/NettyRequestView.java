package io.bulwark.proxy.server;

import io.bulwark.routing.RequestView;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;

import java.util.Locale;

/** {@link RequestView} over a decoded Netty request; host and path are worked out once. */
final class NettyRequestView implements RequestView {

    private final HttpRequest request;
    private final String host;
    private final String path;
    private final String clientIp;

    NettyRequestView(HttpRequest request, String path, String clientIp) {
        this.request = request;
        this.host = hostOf(request.headers().get(HttpHeaderNames.HOST));
        this.path = path;
        this.clientIp = clientIp;
    }

    /** Lower-case host of a Host header value, without the port; "" when absent. */
    static String hostOf(String hostHeader) {
        if (hostHeader == null) {
            return "";
        }
        String h = hostHeader.trim();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return (end > 0 ? h.substring(0, end + 1) : h).toLowerCase(Locale.ROOT);
        }
        int colon = h.indexOf(':');
        return (colon >= 0 ? h.substring(0, colon) : h).toLowerCase(Locale.ROOT);
    }

    @Override
    public String method() {
        return request.method().name();
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String header(String name) {
        return request.headers().get(name);
    }

    @Override
    public String cookie(String name) {
        for (String header : request.headers().getAll(HttpHeaderNames.COOKIE)) {
            int from = 0;
            while (from < header.length()) {
                int semi = header.indexOf(';', from);
                int end = semi < 0 ? header.length() : semi;
                int eq = header.indexOf('=', from);
                if (eq > 0 && eq < end && header.substring(from, eq).trim().equals(name)) {
                    return header.substring(eq + 1, end).trim();
                }
                from = end + 1;
            }
        }
        return null;
    }

    @Override
    public String clientIp() {
        return clientIp;
    }
}
