package io.bulwark.proxy.demo;

import io.bulwark.config.json.Json;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one demo upstream answers, decided per request without any I/O; {@link DemoUpstreamHandler}
 * does the Netty side. Shared by every connection of the upstream, so its only state, the request
 * counter, is atomic.
 *
 * <p>Every kind answers {@code GET /health} with 200 at once (so active health checks stay green
 * while passive outlier detection sees the failures) and echoes everything else as JSON:
 * <ul>
 *   <li>{@link Kind#HEALTHY} answers at once;</li>
 *   <li>{@link Kind#SLOW} answers after {@code ?delay=} milliseconds ({@value #DEFAULT_DELAY_MILLIS} by
 *       default, at most {@value #MAX_DELAY_MILLIS});</li>
 *   <li>{@link Kind#FLAKY} answers 503 to every third request, and on request resets the connection
 *       ({@code ?fail=reset}) or answers a given 5xx ({@code ?fail=502}).</li>
 * </ul>
 */
final class DemoUpstream {

    static final long DEFAULT_DELAY_MILLIS = 300;
    static final long MAX_DELAY_MILLIS = 30_000;
    static final String HEALTH_PATH = "/health";

    /** The three demo behaviours, with the name used in the JSON bodies and in the server's name. */
    enum Kind {
        HEALTHY("healthy"),
        SLOW("slow"),
        FLAKY("flaky");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        String label() {
            return label;
        }

        /** E.g. {@code demo-healthy}. */
        String serverName() {
            return "demo-" + label;
        }
    }

    private final Kind kind;
    /**
     * Requests other than health checks, echoed as {@code request_number}. The flaky upstream fails
     * the ones numbered 3, 6, 9, ...; requests with {@code ?fail=} are counted too.
     */
    private final AtomicLong requests = new AtomicLong();

    DemoUpstream(Kind kind) {
        this.kind = kind;
    }

    Kind kind() {
        return kind;
    }

    /**
     * Decides the reply to a well-formed request.
     *
     * @param port the local port the request arrived on, echoed back
     */
    DemoReply answer(FullHttpRequest request, int port) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        HttpMethod method = request.method();
        if (uri.rawPath().equals(HEALTH_PATH) && (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD))) {
            return DemoReply.now(HttpResponseStatus.OK, "{\"status\":\"ok\"}");
        }
        long number = requests.incrementAndGet();
        return switch (kind) {
            case HEALTHY -> DemoReply.now(HttpResponseStatus.OK, echo(request, uri, port, number));
            case SLOW -> answerSlow(request, uri, port, number);
            case FLAKY -> answerFlaky(request, uri, port, number);
        };
    }

    /** The reply to a request the codec could not decode. */
    DemoReply badRequest(String why) {
        return DemoReply.now(HttpResponseStatus.BAD_REQUEST, error(why));
    }

    private DemoReply answerSlow(FullHttpRequest request, QueryStringDecoder uri, int port, long number) {
        String delayParam = firstParameter(uri, "delay");
        long delay = DEFAULT_DELAY_MILLIS;
        if (delayParam != null) {
            delay = parseMillis(delayParam);
            if (delay < 0) {
                return DemoReply.now(HttpResponseStatus.BAD_REQUEST,
                        error("bad delay \"" + delayParam + "\" (expected milliseconds, e.g. 500 or 500ms)"));
            }
            delay = Math.min(delay, MAX_DELAY_MILLIS);
        }
        return DemoReply.after(HttpResponseStatus.OK, echo(request, uri, port, number), delay);
    }

    private DemoReply answerFlaky(FullHttpRequest request, QueryStringDecoder uri, int port, long number) {
        String fail = firstParameter(uri, "fail");
        if (fail != null) {
            if (fail.equals("reset")) {
                return DemoReply.RESET;
            }
            int status = parseStatus(fail);
            if (status < 0) {
                return DemoReply.now(HttpResponseStatus.BAD_REQUEST,
                        error("bad fail \"" + fail + "\" (expected reset or a status 500..599)"));
            }
            return DemoReply.now(HttpResponseStatus.valueOf(status), error("simulated failure"));
        }
        if (number % 3 == 0) {
            return DemoReply.now(HttpResponseStatus.SERVICE_UNAVAILABLE, error("simulated failure"));
        }
        return DemoReply.now(HttpResponseStatus.OK, echo(request, uri, port, number));
    }

    private String echo(FullHttpRequest request, QueryStringDecoder uri, int port, long number) {
        String query = request.uri().indexOf('?') >= 0 ? uri.rawQuery() : null;
        return "{\"upstream\":" + Json.quote(kind.label())
                + ",\"port\":" + port
                + ",\"method\":" + Json.quote(request.method().name())
                + ",\"path\":" + Json.quote(uri.rawPath())
                + ",\"query\":" + Json.quote(query)
                + ",\"request_id\":" + Json.quote(request.headers().get("x-request-id"))
                + ",\"attempt\":" + Json.quote(request.headers().get("x-bulwark-attempt"))
                + ",\"body_bytes\":" + request.content().readableBytes()
                + ",\"request_number\":" + number
                + "}";
    }

    private String error(String message) {
        return "{\"upstream\":" + Json.quote(kind.label()) + ",\"error\":" + Json.quote(message) + "}";
    }

    private static String firstParameter(QueryStringDecoder uri, String name) {
        List<String> values = uri.parameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** {@code 500}, {@code 500ms} or {@code 2s} as milliseconds; -1 when it is none of these. */
    static long parseMillis(String text) {
        String value = text.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (value.endsWith("ms")) {
            value = value.substring(0, value.length() - 2);
        } else if (value.endsWith("s")) {
            value = value.substring(0, value.length() - 1);
            unit = 1000;
        }
        if (value.isEmpty() || value.length() > 9 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        return Long.parseLong(value) * unit;
    }

    private static int parseStatus(String text) {
        if (text.length() != 3 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        int status = Integer.parseInt(text);
        return status >= 500 && status <= 599 ? status : -1;
    }
}
