package io.bulwark.proxy.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code listener.trust-forwarded-from}: the peers whose {@code X-Forwarded-For} is believed. The
 * client's address (for client-ip rate limits and hashing) is the TCP peer, unless the peer is
 * trusted: then it is the rightmost address of {@code X-Forwarded-For} that is not itself trusted.
 * The header sent upstream is always the incoming one with the peer appended.
 */
final class TrustedProxies {

    private static final Map<List<String>, TrustedProxies> CACHE = new ConcurrentHashMap<>();
    static final TrustedProxies NONE = new TrustedProxies(List.of());

    private record Range(byte[] network, int prefix) {
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xFF << (8 - rest)) & 0xFF;
            return (address[full] & mask) == (network[full] & mask);
        }
    }

    private final List<Range> ranges;

    private TrustedProxies(List<Range> ranges) {
        this.ranges = ranges;
    }

    /** The (cached) matcher for validated ranges such as {@code 10.0.0.0/8} or {@code 127.0.0.1}. */
    static TrustedProxies of(List<String> specs) {
        if (specs.isEmpty()) {
            return NONE;
        }
        return CACHE.computeIfAbsent(specs, s -> {
            List<Range> parsed = new ArrayList<>();
            for (String spec : s) {
                int slash = spec.indexOf('/');
                byte[] ip = literal(slash >= 0 ? spec.substring(0, slash) : spec);
                if (ip != null) {
                    parsed.add(new Range(ip, slash >= 0 ? Integer.parseInt(spec.substring(slash + 1)) : ip.length * 8));
                }
            }
            return new TrustedProxies(List.copyOf(parsed));
        });
    }

    boolean isEmpty() {
        return ranges.isEmpty();
    }

    boolean trusts(String ip) {
        byte[] address = literal(ip);
        if (address == null) {
            return false;
        }
        for (Range r : ranges) {
            if (r.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** The client's address: {@code peer}, or from {@code forwardedFor} when the peer is trusted. */
    String clientAddress(String peer, List<String> forwardedFor) {
        if (ranges.isEmpty() || forwardedFor.isEmpty() || !trusts(peer)) {
            return peer;
        }
        List<String> hops = new ArrayList<>();
        for (String header : forwardedFor) {
            for (String part : header.split(",")) {
                String hop = part.trim();
                if (!hop.isEmpty()) {
                    hops.add(hop);
                }
            }
        }
        for (int i = hops.size() - 1; i >= 0; i--) {
            String hop = hops.get(i);
            if (literal(hop) == null) {
                return peer; // not an address: do not believe the rest of the chain
            }
            if (!trusts(hop)) {
                return hop;
            }
        }
        return hops.isEmpty() ? peer : hops.get(0);
    }

    /** The bytes of an IP literal, or null for anything else (never a DNS lookup). */
    private static byte[] literal(String text) {
        String t = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        boolean looksIp = !t.isEmpty() && t.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':');
        if (!looksIp || (t.indexOf(':') < 0 && t.chars().filter(c -> c == '.').count() != 3)) {
            return null;
        }
        try {
            return InetAddress.getByName(t).getAddress(); // a literal: no lookup happens
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
