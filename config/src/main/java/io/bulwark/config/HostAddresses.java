package io.bulwark.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Syntax of the network addresses a config names: endpoint {@code host:port} (IPv6 in brackets),
 * listener and admin hosts, and the loopback test that decides whether the admin API needs a
 * token. Pure string checks; nothing here resolves a name, so validation never touches DNS.
 */
final class HostAddresses {

    /** A parsed {@code host:port}; {@code host} is an IPv6 literal without brackets, an IPv4 literal or a name. */
    record HostPort(String host, int port) {
    }

    private static final int MAX_HOST_NAME_LENGTH = 253;
    private static final int MAX_LABEL_LENGTH = 63;

    private HostAddresses() {
    }

    /**
     * Parses {@code host:port} or {@code [ipv6]:port}.
     *
     * @throws IllegalArgumentException whose message says what was expected, e.g.
     *     {@code expected: a port 1..65535 after the colon}
     */
    static HostPort parseHostPort(String text) {
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("expected: [IPv6 address]:port, like [::1]:9001");
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
            if (parseIpv6(host).isEmpty()) {
                throw new IllegalArgumentException("expected: a valid IPv6 address in the brackets");
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("expected: host:port, like 127.0.0.1:9001");
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException("expected: host:port with an IPv6 address in brackets, like [::1]:9001");
            }
            if (!isHostName(host) && parseIpv4(host).isEmpty()) {
                throw new IllegalArgumentException("expected: host:port with a valid host name or IP address");
            }
        }
        return new HostPort(host, parsePort(port));
    }

    private static int parsePort(String text) {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("expected: host:port with a port 1..65535");
        }
        int port = Integer.parseInt(text);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("expected: host:port with a port 1..65535");
        }
        return port;
    }

    /**
     * Normalizes a host a listener binds to: an IP literal (IPv6 with or without brackets) or a
     * host name. Empty when the text is neither.
     */
    static Optional<String> normalizeBindHost(String text) {
        String host = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (parseIpv4(host).isPresent() || parseIpv6(host).isPresent() || isHostName(host)) {
            return Optional.of(host);
        }
        return Optional.empty();
    }

    /** True for localhost, 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses. */
    static boolean isLoopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.equals("localhost") || h.equals("localhost.")) {
            return true;
        }
        Optional<byte[]> v4 = parseIpv4(h);
        if (v4.isPresent()) {
            return v4.get()[0] == 127;
        }
        Optional<byte[]> v6 = parseIpv6(h);
        if (v6.isEmpty()) {
            return false;
        }
        byte[] b = v6.get();
        boolean loopback6 = true;
        for (int i = 0; i < 15; i++) {
            loopback6 &= b[i] == 0;
        }
        if (loopback6 && b[15] == 1) {
            return true;
        }
        boolean mapped = true;
        for (int i = 0; i < 10; i++) {
            mapped &= b[i] == 0;
        }
        return mapped && b[10] == (byte) 0xff && b[11] == (byte) 0xff && b[12] == 127;
    }

    /** RFC 1123 host name (underscores tolerated, as container runtimes hand them out). */
    static boolean isHostName(String host) {
        String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (h.isEmpty() || h.length() > MAX_HOST_NAME_LENGTH) {
            return false;
        }
        // Something that looks like an IPv4 address but is not one is a typo, not a name.
        if (h.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.')) {
            return parseIpv4(h).isPresent();
        }
        for (String label : h.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > MAX_LABEL_LENGTH
                    || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '_';
                if (!ok) {
                    return false;
                }
            }
        }
        return true;
    }

    static Optional<byte[]> parseIpv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return Optional.empty();
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return Optional.empty();
            }
            int v = Integer.parseInt(p);
            if (v > 255) {
                return Optional.empty();
            }
            bytes[i] = (byte) v;
        }
        return Optional.of(bytes);
    }

    /** Parses an IPv6 literal without brackets (zone ids such as {@code %eth0} allowed) into 16 bytes. */
    static Optional<byte[]> parseIpv6(String text) {
        String s = text;
        int zone = s.indexOf('%');
        if (zone >= 0) {
            if (zone == s.length() - 1) {
                return Optional.empty();
            }
            s = s.substring(0, zone);
        }
        if (s.isEmpty() || s.indexOf(':') < 0) {
            return Optional.empty();
        }
        int gap = s.indexOf("::");
        if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
            return Optional.empty();
        }
        List<Integer> head;
        List<Integer> tail;
        if (gap >= 0) {
            head = groups(s.substring(0, gap), false);
            tail = groups(s.substring(gap + 2), true);
        } else {
            head = groups(s, true);
            tail = List.of();
        }
        if (head == null || tail == null) {
            return Optional.empty();
        }
        int count = head.size() + tail.size();
        if ((gap >= 0 && count > 7) || (gap < 0 && count != 8)) {
            return Optional.empty();
        }
        byte[] bytes = new byte[16];
        for (int i = 0; i < head.size(); i++) {
            putGroup(bytes, i, head.get(i));
        }
        for (int i = 0; i < tail.size(); i++) {
            putGroup(bytes, 8 - tail.size() + i, tail.get(i));
        }
        return Optional.of(bytes);
    }

    /** 16-bit groups of one side of "::"; null when malformed. An IPv4 tail counts as two groups. */
    private static List<Integer> groups(String part, boolean ipv4TailAllowed) {
        List<Integer> groups = new ArrayList<>();
        if (part.isEmpty()) {
            return groups;
        }
        String[] pieces = part.split(":", -1);
        for (int i = 0; i < pieces.length; i++) {
            String p = pieces[i];
            if (i == pieces.length - 1 && ipv4TailAllowed && p.indexOf('.') >= 0) {
                Optional<byte[]> v4 = parseIpv4(p);
                if (v4.isEmpty()) {
                    return null;
                }
                byte[] b = v4.get();
                groups.add(((b[0] & 0xff) << 8) | (b[1] & 0xff));
                groups.add(((b[2] & 0xff) << 8) | (b[3] & 0xff));
                continue;
            }
            if (p.isEmpty() || p.length() > 4 || !p.chars().allMatch(HostAddresses::isHexDigit)) {
                return null;
            }
            groups.add(Integer.parseInt(p, 16));
        }
        return groups;
    }

    private static boolean isHexDigit(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static void putGroup(byte[] bytes, int index, int group) {
        bytes[index * 2] = (byte) (group >> 8);
        bytes[index * 2 + 1] = (byte) group;
    }
}
