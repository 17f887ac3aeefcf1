package io.bulwark.admin;

import io.bulwark.config.AdminConfig;
import io.bulwark.config.json.Json;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin HTTP server, on its own event loop so that a flooded data plane cannot starve it.
 * {@code /live}, {@code /ready}, {@code /metrics} and the operator console's static files
 * ({@code /}, see {@link ConsolePage}) are always open; every {@code /api} path needs the bearer
 * token when one is configured.
 */
public final class AdminServer {

    private final Supplier<AdminConfig> config;
    private final PrometheusMeterRegistry registry;
    private final BooleanSupplier ready;
    private final Supplier<String> readyNote;
    private final ApiHandler api;
    private Channel serverChannel;

    /** Answers {@code /api/...} calls ({@link AdminApi}); null for a path it does not serve, which is answered 404. */
    @FunctionalInterface
    public interface ApiHandler {
        AdminResponse handle(HttpMethod method, String path, QueryStringDecoder query, String body);
    }

    /** A JSON response from an {@link ApiHandler}. */
    public record AdminResponse(int status, String json) {
        public static AdminResponse error(int status, String code, String message) {
            return new AdminResponse(status, "{\"error\":" + Json.quote(code) + ",\"message\":" + Json.quote(message) + "}");
        }
    }

    /**
     * @param config the admin config in force, read per request so a reloaded token applies at once
     *     (host and port changes need a restart)
     */
    public AdminServer(Supplier<AdminConfig> config, PrometheusMeterRegistry registry, BooleanSupplier ready,
                       ApiHandler api) {
        this(config, registry, ready, api, () -> null);
    }

    /**
     * @param readyNote a line added to {@code /ready}'s body when not null (e.g. that the running config
     *     was rolled back and differs from the file)
     */
    public AdminServer(Supplier<AdminConfig> config, PrometheusMeterRegistry registry, BooleanSupplier ready,
                       ApiHandler api, Supplier<String> readyNote) {
        this.readyNote = readyNote;
        this.config = config;
        this.registry = registry;
        this.ready = ready;
        this.api = api;
    }

    private String readyBody() {
        String note = readyNote.get();
        return note == null ? "ready\n" : "ready\n" + note + "\n";
    }

    /** Binds on {@code group}; blocks until bound. */
    public InetSocketAddress start(EventLoopGroup group, Class<? extends ServerChannel> channelClass)
            throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline()
                                .addLast("read-timeout", new ReadTimeoutHandler(60))
                                .addLast("codec", new HttpServerCodec())
                                .addLast("aggregator", new HttpObjectAggregator(1024 * 1024))
                                .addLast("admin", new Handler());
                    }
                });
        AdminConfig initial = config.get();
        serverChannel = bootstrap.bind(initial.host(), initial.port()).sync().channel();
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public void stop() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            FullHttpResponse response;
            try {
                response = respond(ctx, request);
            } catch (RuntimeException e) {
                response = json(ctx, AdminResponse.error(500, "internal", "the admin call failed: " + e));
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
            HttpUtil.setKeepAlive(response, keepAlive);
            if (keepAlive) {
                ctx.writeAndFlush(response);
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    FullHttpResponse respond(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            return json(ctx, AdminResponse.error(400, "bad_request", "malformed request"));
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        String path = query.path();
        HttpMethod method = request.method();
        ConsolePage.Asset console = ConsolePage.asset(path);
        boolean readOnlyPath = path.equals("/live") || path.equals("/ready") || path.equals("/metrics")
                || console != null;
        if (readOnlyPath && method != HttpMethod.GET && method != HttpMethod.HEAD) {
            // As every read-only /api endpoint does: a POST to /metrics is a mistake worth saying so.
            FullHttpResponse r = json(ctx, AdminResponse.error(405, "method_not_allowed",
                    method + " is not allowed here"));
            r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            return r;
        }
        switch (path) {
            case "/live":
                return text(ctx, HttpResponseStatus.OK, "live\n", "text/plain; charset=utf-8");
            case "/ready":
                return ready.getAsBoolean()
                        ? text(ctx, HttpResponseStatus.OK, readyBody(), "text/plain; charset=utf-8")
                        : text(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n", "text/plain; charset=utf-8");
            case "/metrics":
                return text(ctx, HttpResponseStatus.OK, registry.scrape(),
                        "text/plain; version=0.0.4; charset=utf-8");
            default:
                break;
        }
        if (console != null) {
            return console(ctx, console);
        }
        if (!path.startsWith("/api/")) {
            return json(ctx, AdminResponse.error(404, "not_found", "no admin endpoint " + path));
        }
        java.util.Optional<String> token = config.get().token();
        if (token.isPresent() && !authorized(request, token.get())) {
            FullHttpResponse r = json(ctx, AdminResponse.error(401, "unauthorized",
                    "this call needs \"Authorization: Bearer <token>\""));
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
            return r;
        }
        String body = request.content().toString(StandardCharsets.UTF_8);
        AdminResponse answer = api == null ? null : api.handle(method, path, query, body);
        if (answer == null) {
            answer = AdminResponse.error(404, "not_found", "no admin endpoint " + method + " " + path);
        }
        return json(ctx, answer);
    }

    /** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
    static boolean authorized(FullHttpRequest request, String token) {
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        byte[] expected = token.getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, expected);
    }

    private static FullHttpResponse text(ChannelHandlerContext ctx, HttpResponseStatus status, String body,
                                         String contentType) {
        ByteBuf buf = ctx.alloc().buffer(body.length());
        buf.writeCharSequence(body, StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, buf);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return r;
    }

    /** A console file, with the headers that keep the page from being framed, sniffed or injected into. */
    private static FullHttpResponse console(ChannelHandlerContext ctx, ConsolePage.Asset asset) {
        ByteBuf buf = ctx.alloc().buffer(asset.body().length);
        buf.writeBytes(asset.body());
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, buf);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, asset.contentType())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
                .set(HttpHeaderNames.CONTENT_SECURITY_POLICY, ConsolePage.CONTENT_SECURITY_POLICY)
                .set(HttpHeaderNames.X_FRAME_OPTIONS, "DENY")
                .set("X-Content-Type-Options", "nosniff")
                .set("Referrer-Policy", "no-referrer");
        return r;
    }

    private static FullHttpResponse json(ChannelHandlerContext ctx, AdminResponse answer) {
        return text(ctx, HttpResponseStatus.valueOf(answer.status()), answer.json() + "\n", "application/json");
    }
}
