package io.bulwark.routing.outlier;

import io.bulwark.config.OutlierDetectionConfig.LatencyConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rule of the latency detector ({@code outlier-detection.latency}): among hosts not ejected with
 * at least request-volume tries in the window, if at least minimum-hosts qualify, the slow ones are
 * those whose p90 time to response head is above the threshold and above factor x the median of the
 * qualifying hosts' p90s. It only decides; the {@link OutlierDetector} ejects (within
 * max-ejection-percent) and owns the lock this runs under.
 */
final class LatencyDetector {

    /** The percentile compared. */
    static final double PERCENTILE = 0.9;

    /** A host to eject and the detail of its ejection event. */
    record Verdict(HostMonitor host, Map<String, Object> detail) {
    }

    private final LatencyConfig config;

    LatencyDetector(LatencyConfig config) {
        this.config = config;
    }

    /** A new host's window of times. */
    LatencyWindow newWindow() {
        return new LatencyWindow((int) config.window().toSeconds());
    }

    /**
     * Closes every host's one-second slice, then returns the slow hosts, slowest first (so that when
     * max-ejection-percent stops the round, the worst host is the one that went).
     */
    List<Verdict> check(List<HostMonitor> hosts) {
        List<HostMonitor> qualified = new ArrayList<>();
        List<Long> p90s = new ArrayList<>();
        for (HostMonitor m : hosts) {
            m.latency.closeSlice();
            if (!m.ejected && m.latency.count() >= config.requestVolume()) {
                qualified.add(m);
                p90s.add(m.latency.percentileNanos(PERCENTILE));
            }
        }
        if (qualified.isEmpty() || qualified.size() < config.minimumHosts()) {
            return List.of();
        }
        double median = median(p90s);
        long threshold = config.threshold().toNanos();
        List<Integer> slow = new ArrayList<>();
        for (int k = 0; k < qualified.size(); k++) {
            long p90 = p90s.get(k);
            if (p90 > threshold && p90 > config.factor() * median) {
                slow.add(k);
            }
        }
        slow.sort((a, b) -> Long.compare(p90s.get(b), p90s.get(a)));
        List<Verdict> verdicts = new ArrayList<>(slow.size());
        for (int k : slow) {
            HostMonitor m = qualified.get(k);
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("p90_ms", millis(p90s.get(k)));
            detail.put("median_p90_ms", millis(median));
            detail.put("threshold_ms", config.threshold().toMillis());
            detail.put("factor", config.factor());
            detail.put("requests", m.latency.count());
            detail.put("request_volume", config.requestVolume());
            detail.put("minimum_hosts", config.minimumHosts());
            detail.put("hosts_evaluated", qualified.size());
            detail.put("window_ms", config.window().toMillis());
            verdicts.add(new Verdict(m, detail));
        }
        return verdicts;
    }

    /** The median; of an even count, the mean of the middle two. */
    static double median(List<Long> values) {
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    }

    /** Nanoseconds as milliseconds to three decimals, for event details. */
    private static double millis(double nanos) {
        return Math.round(nanos / 1_000.0) / 1_000.0;
    }
}
