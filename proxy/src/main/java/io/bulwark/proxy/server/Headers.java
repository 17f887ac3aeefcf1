package io.bulwark.proxy.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Header rules shared by both directions: hop-by-hop stripping (RFC 9110 §7.6.1), the
 * forwarding headers and request ids.
 */
public final class Headers {

    public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    public static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    public static final AsciiString X_BULWARK_ATTEMPT = AsciiString.cached("x-bulwark-attempt");
    static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");

    /** Always hop-by-hop, whatever the Connection header says. */
    private static final AsciiString[] HOP_BY_HOP = {
        HttpHeaderNames.CONNECTION, KEEP_ALIVE, PROXY_CONNECTION, HttpHeaderNames.TE,
        HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE,
        HttpHeaderNames.PROXY_AUTHENTICATE, HttpHeaderNames.PROXY_AUTHORIZATION,
    };

    /**
     * Headers a {@code Connection} header may never remove: message framing, the target, and
     * what the proxy itself vouches for. Naming them there is a classic smuggling trick.
     */
    private static final Set<String> PROTECTED = Set.of(
            "host", "content-length", "transfer-encoding",
            "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id", "x-bulwark-attempt");

    private Headers() {
    }

    /**
     * Removes hop-by-hop headers: the fixed list plus every header named in {@code Connection}
     * (except {@link #PROTECTED} ones). Framing headers are re-added by the caller as needed.
     *
     * @param keepUpgrade keep {@code Upgrade} (and a {@code Connection: upgrade}) for a protocol switch
     */
    public static void stripHopByHop(HttpHeaders headers, boolean keepUpgrade) {
        List<String> named = connectionTokens(headers);
        for (String name : named) {
            if (!PROTECTED.contains(name) && !(keepUpgrade && name.equals("upgrade"))) {
                headers.remove(name);
            }
        }
        for (AsciiString name : HOP_BY_HOP) {
            if (keepUpgrade && (name == HttpHeaderNames.UPGRADE)) {
                continue;
            }
            headers.remove(name);
        }
        if (keepUpgrade) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE);
        }
    }

    /** Whether a {@code TE} field of the request names {@code trailers} (the client takes trailers). */
    public static boolean acceptsTrailers(HttpHeaders headers) {
        for (String value : headers.getAll(HttpHeaderNames.TE)) {
            for (String token : value.split(",")) {
                int semi = token.indexOf(';');
                String coding = (semi >= 0 ? token.substring(0, semi) : token).trim();
                if (coding.equalsIgnoreCase("trailers")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The lower-case tokens of every {@code Connection} header. */
    public static List<String> connectionTokens(HttpHeaders headers) {
        List<String> values = headers.getAll(HttpHeaderNames.CONNECTION);
        if (values.isEmpty()) {
            return List.of();
        }
        List<String> tokens = new ArrayList<>(4);
        for (String value : values) {
            for (String token : value.split(",")) {
                String t = token.trim().toLowerCase(java.util.Locale.ROOT);
                if (!t.isEmpty()) {
                    tokens.add(t);
                }
            }
        }
        return tokens;
    }

    /**
     * True when the request asks for a WebSocket upgrade ({@code Upgrade: websocket} named in
     * {@code Connection}). Other upgrades (notably {@code h2c}, which HTTP clients offer on their
     * own) are stripped like any hop-by-hop header, as Envoy does by default: a tunnel cannot be
     * retried, so it is only set up when the client really wants one.
     */
    public static boolean isUpgradeRequest(HttpHeaders headers) {
        String upgrade = headers.get(HttpHeaderNames.UPGRADE);
        return upgrade != null && upgrade.trim().equalsIgnoreCase("websocket")
                && connectionTokens(headers).contains("upgrade");
    }

    /** A random version-4 UUID, made without SecureRandom so it never blocks an event loop. */
    public static String newRequestId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long hi = (random.nextLong() & ~0xF000L) | 0x4000L;
        long lo = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new java.util.UUID(hi, lo).toString();
    }

    /** An incoming request id is kept only if it is short and printable; otherwise a new one is made. */
    public static boolean isAcceptableRequestId(String id) {
        if (id == null || id.isEmpty() || id.length() > 128) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }
}
