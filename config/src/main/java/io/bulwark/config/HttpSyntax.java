package io.bulwark.config;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * HTTP syntax rules the config must obey so that nothing invalid ever reaches the wire:
 * tokens (method and header names, RFC 9110 §5.6.2), header values, and the host patterns a
 * route matches on.
 */
final class HttpSyntax {

    private static final String TOKEN_SPECIALS = "!#$%&'*+-.^_`|~";

    /**
     * Headers the proxy owns (hop-by-hop or message framing, RFC 9110 §7.6.1); a route may not add
     * them, because a configured value would contradict the framing the proxy writes.
     */
    static final Set<String> NOT_ADDABLE_HEADERS = Set.of(
            "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
            "upgrade", "content-length");

    private HttpSyntax() {
    }

    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || TOKEN_SPECIALS.indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** No control characters (CR/LF would split the header) and nothing outside Latin-1. */
    static boolean isHeaderValue(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff) {
                return false;
            }
        }
        return true;
    }

    /**
     * Lower-cases and checks a route's host pattern: an exact host name or IP, a bracketed IPv6
     * literal, or {@code *.suffix}. Never with a port. Empty when invalid.
     */
    static Optional<String> normalizeHostPattern(String text) {
        String host = text.toLowerCase(Locale.ROOT);
        if (host.startsWith("*.")) {
            String suffix = host.substring(2);
            return HostAddresses.isHostName(suffix) && !suffix.endsWith(".") ? Optional.of(host) : Optional.empty();
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            return HostAddresses.parseIpv6(host.substring(1, host.length() - 1)).map(b -> host);
        }
        return HostAddresses.isHostName(host) && !host.endsWith(".") ? Optional.of(host) : Optional.empty();
    }
}
