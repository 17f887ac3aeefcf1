package io.bulwark.proxy.server;

import io.bulwark.config.RouteConfig;
import io.bulwark.routing.Cluster;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * The header fields a request carries upstream: the client's, without hop-by-hop fields, plus
 * {@code X-Forwarded-For/-Proto/-Host}, {@code X-Request-Id} and the route's
 * {@code request-headers} edits. Built once per request; every try reuses it with its own
 * {@code x-bulwark-attempt}.
 */
final class UpstreamHeaders {

    private UpstreamHeaders() {
    }

    static HttpHeaders of(HttpRequest req, boolean upgrade, Downstream downstream, String requestId,
                          RouteConfig.HeaderRewrite rewrite, Cluster cluster) {
        HttpHeaders h = req.headers().copy();
        boolean chunked = HttpUtil.isTransferEncodingChunked(req);
        String originalHost = req.headers().get(HttpHeaderNames.HOST);
        List<String> priorForwardedFor = h.getAll(Headers.X_FORWARDED_FOR);
        Headers.stripHopByHop(h, upgrade);
        if (chunked) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        String peer = downstream.peerIp();
        String forwardedFor = priorForwardedFor.isEmpty() ? peer : String.join(", ", priorForwardedFor) + ", " + peer;
        h.set(Headers.X_FORWARDED_FOR, forwardedFor);
        h.set(Headers.X_FORWARDED_PROTO, downstream.secure() ? "https" : "http");
        if (originalHost != null) {
            h.set(Headers.X_FORWARDED_HOST, originalHost);
        } else {
            h.remove(Headers.X_FORWARDED_HOST);
        }
        h.set(Headers.X_REQUEST_ID, requestId);
        for (String name : rewrite.remove()) {
            h.remove(name);
        }
        for (Map.Entry<String, String> e : rewrite.add().entrySet()) {
            h.set(e.getKey(), e.getValue());
        }
        if (originalHost == null && req.protocolVersion() == HttpVersion.HTTP_1_0) {
            // An HTTP/1.0 request may lack Host; HTTP/1.1 upstreams require one.
            InetSocketAddress first = cluster.upstreams().isEmpty() ? null : cluster.upstreams().get(0).socketAddress();
            if (first != null) {
                h.set(HttpHeaderNames.HOST, first.getHostString() + ":" + first.getPort());
            }
        }
        return h;
    }
}
