package io.bulwark.proxy.server;

import io.bulwark.config.FallbackConfig;
import io.bulwark.routing.Route;
import io.bulwark.routing.fallback.StaleCache;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A route's {@code fallback} for one GET or HEAD request: it keeps a copy of a response the stale
 * cache may keep ({@link StaleCache#storable}), and when the upstreams fail the request after its
 * retries — a connect failure, reset, timeout or protocol error, a 5xx answer, an open circuit, no
 * healthy upstream, an overloaded cluster — it answers with a kept copy younger than
 * {@code stale-if-error} ({@code x-bulwark-fallback: stale}, with {@code Age}), else with the
 * route's fixed reply ({@code x-bulwark-fallback: fixed} and the {@code x-bulwark-error} that
 * triggered it). Never for other methods, never for refusals of the client (rate limit, body
 * too large) or injected faults. Confined to the request's event loop.
 */
final class Fallback {

    static final String HEADER = "x-bulwark-fallback";

    private final FallbackConfig config;
    private final StaleCache cache;
    private final HttpRequest request;
    private final boolean head;
    private final String target;

    /** The copy being taken of the response relayed now; null when none is. */
    private Capture capture;
    /** What was served: {@code stale} or {@code fixed}; null while nothing was. */
    private String served;

    private Fallback(FallbackConfig config, StaleCache cache, HttpRequest request, String target) {
        this.config = config;
        this.cache = cache;
        this.request = request;
        this.head = request.method() == HttpMethod.HEAD;
        this.target = target;
    }

    /**
     * The fallback of this request, or null when its route has none or it is not a GET or HEAD.
     * Its copies are keyed by {@code Host} and the request target as sent (path and query).
     */
    static Fallback of(Route route, HttpRequest request) {
        FallbackConfig config = route.config().fallback().orElse(null);
        HttpMethod m = request.method();
        if (config == null || m != HttpMethod.GET && m != HttpMethod.HEAD) {
            return null;
        }
        String host = request.headers().get(HttpHeaderNames.HOST, "");
        return new Fallback(config, route.policies().staleCache(), request, host.toLowerCase(Locale.ROOT) + " " + request.uri());
    }

    /** Whether this local reply may be replaced by the fallback (the upstreams' failure, not the client's). */
    static boolean covers(LocalReply reply) {
        return reply.upstreamFailure() || reply == LocalReply.CIRCUIT_OPEN || reply == LocalReply.NO_HEALTHY_UPSTREAM
                || reply == LocalReply.OVERLOADED;
    }

    /** {@code stale}, {@code fixed}, or null when the request got no fallback. */
    String served() {
        return served;
    }

    /**
     * The reply that stands in for an error with {@code errorCode}, or null when there is none
     * (no copy young enough and no fixed reply).
     */
    FullHttpResponse reply(ByteBufAllocator alloc, HttpVersion version, String errorCode, long nowMillis,
                           String requestId) {
        FullHttpResponse r = reply(alloc, version, errorCode, nowMillis);
        if (r != null) {
            r.headers().set(Headers.X_REQUEST_ID, requestId); // this request's id, not the kept response's
        }
        return r;
    }

    private FullHttpResponse reply(ByteBufAllocator alloc, HttpVersion version, String errorCode, long nowMillis) {
        if (cache != null) {
            StaleCache.Copy copy = cache.lookup(target, this::requestField).orElse(null);
            if (copy != null) {
                served = "stale";
                return stale(alloc, version, copy, nowMillis);
            }
        }
        if (config.fixed().isPresent()) {
            served = "fixed";
            return fixed(alloc, version, config.fixed().get(), errorCode);
        }
        return null;
    }

    private FullHttpResponse stale(ByteBufAllocator alloc, HttpVersion version, StaleCache.Copy copy, long nowMillis) {
        ByteBuf body = head || copy.body().length == 0 ? Unpooled.EMPTY_BUFFER
                : alloc.buffer(copy.body().length).writeBytes(copy.body());
        FullHttpResponse r = new DefaultFullHttpResponse(version, HttpResponseStatus.valueOf(copy.status()), body);
        HttpHeaders h = r.headers();
        for (Map.Entry<String, String> field : copy.headers()) {
            h.add(field.getKey(), field.getValue());
        }
        h.set(HttpHeaderNames.AGE, copy.ageSeconds(nowMillis));
        h.set(HEADER, "stale");
        HttpUtil.setContentLength(r, copy.body().length);
        return r;
    }

    private FullHttpResponse fixed(ByteBufAllocator alloc, HttpVersion version, FallbackConfig.Fixed fixed,
                                   String errorCode) {
        byte[] bytes = fixed.body().getBytes(StandardCharsets.UTF_8);
        ByteBuf body = head || bytes.length == 0 ? Unpooled.EMPTY_BUFFER : alloc.buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse r = new DefaultFullHttpResponse(version, HttpResponseStatus.valueOf(fixed.status()), body);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, fixed.contentType())
                .set(HEADER, "fixed")
                .set(LocalReply.ERROR_HEADER, errorCode);
        HttpUtil.setContentLength(r, bytes.length);
        return r;
    }

    // ------------------------------------------------------------------ keeping a copy

    /** A response head goes to the client: start a copy of it if the cache may keep it. */
    void onResponseHead(HttpResponse response) {
        if (cache == null || head) {
            return;
        }
        HttpHeaders h = response.headers();
        long length = HttpUtil.getContentLength(response, -1L);
        if (!cache.storable(request.method().name(), this::requestField, response.status().code(),
                name -> h.get(name), length)) {
            return;
        }
        List<Map.Entry<String, String>> fields = new ArrayList<>(h.size());
        for (Map.Entry<String, String> e : h) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (!name.equals("connection") && !name.equals("keep-alive") && !name.equals("transfer-encoding")
                    && !name.equals("content-length") && !name.equals(LocalReply.ERROR_HEADER)) {
                fields.add(Map.entry(e.getKey(), e.getValue()));
            }
        }
        capture = new Capture(response.status().code(), fields, length);
    }

    /** A part of that response's body (before it is written, which releases it). */
    void onResponseBody(HttpContent part, boolean last) {
        Capture c = capture;
        if (c == null) {
            return;
        }
        ByteBuf content = part.content();
        if (c.body.size() + content.readableBytes() > cache.maxBodyBytes()) {
            capture = null; // too large to keep
            return;
        }
        c.body.writeBytes(io.netty.buffer.ByteBufUtil.getBytes(content, content.readerIndex(), content.readableBytes(),
                false));
        if (last) {
            capture = null;
            if (c.declaredLength < 0 || c.declaredLength == c.body.size()) {
                cache.store(target, this::requestField, c.status, c.fields, c.body.toByteArray());
            }
        }
    }

    /** The response broke off: the partial copy is dropped. */
    void onResponseBroken() {
        capture = null;
    }

    private String requestField(String name) {
        return request.headers().get(name);
    }

    private static final class Capture {
        final int status;
        final List<Map.Entry<String, String>> fields;
        final long declaredLength;
        final ByteArrayOutputStream body;

        Capture(int status, List<Map.Entry<String, String>> fields, long declaredLength) {
            this.status = status;
            this.fields = fields;
            this.declaredLength = declaredLength;
            this.body = new ByteArrayOutputStream((int) Math.max(64, Math.min(declaredLength, 64 * 1024)));
        }
    }
}
