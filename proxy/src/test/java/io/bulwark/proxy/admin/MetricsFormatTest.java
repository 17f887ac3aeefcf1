package io.bulwark.proxy.admin;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code GET /metrics} parses under the Prometheus text exposition format rules (version 0.0.4). */
class MetricsFormatTest {

    static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)( -?\\d+)?");
    static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"");

    @Test
    void everyLineFollowsTheTextFormatAndTheContractNamesAreThere() throws Exception {
        try (TestUpstream up = TestUpstream.start("a", TestUpstream.echo("a"));
             ProxyHarness proxy = ProxyHarness.start("""
                     clusters { app { endpoints = [ "%s" ] } }
                     routes = [ { name = main, match { path-prefix = "/" }, cluster = app } ]
                     """.formatted(up.address()))) {
            proxy.get("/x");
            proxy.get("/y");
            var response = proxy.admin("/metrics");
            assertThat(response.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
            Map<String, String> types = new HashMap<>();
            Set<String> seriesSeen = new HashSet<>();
            for (String line : response.body().split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                if (line.startsWith("# HELP ")) {
                    String[] parts = line.split(" ", 4);
                    assertThat(NAME.matcher(parts[2]).matches()).as(line).isTrue();
                    continue;
                }
                if (line.startsWith("# TYPE ")) {
                    String[] parts = line.split(" ");
                    assertThat(parts).as(line).hasSize(4);
                    assertThat(parts[3]).as(line).isIn("counter", "gauge", "histogram", "summary", "untyped");
                    assertThat(types.put(parts[2], parts[3])).as("TYPE declared twice: " + line).isNull();
                    continue;
                }
                assertThat(line).as("a comment other than HELP/TYPE").doesNotStartWith("#");
                Matcher m = SAMPLE.matcher(line);
                assertThat(m.matches()).as(line).isTrue();
                String name = m.group(1);
                String family = familyOf(name, types);
                assertThat(family).as("sample without a TYPE: " + line).isNotNull();
                if (m.group(3) != null && !m.group(3).isEmpty()) {
                    String labels = m.group(3);
                    Matcher lm = LABEL.matcher(labels);
                    int end = 0;
                    while (lm.find()) {
                        assertThat(lm.start()).as(line).isEqualTo(end == 0 ? 0 : end + 1);
                        end = lm.end();
                    }
                    assertThat(end).as("labels parse to the end: " + line).isEqualTo(
                            labels.endsWith(",") ? labels.length() - 1 : labels.length());
                }
                String value = m.group(4);
                assertThat(value.matches("[-+]?(\\d+(\\.\\d*)?([eE][-+]?\\d+)?|\\.\\d+|NaN|[-+]?Inf)"))
                        .as(line).isTrue();
                assertThat(seriesSeen.add(name + "{" + m.group(3) + "}")).as("duplicate series " + line).isTrue();
            }
            assertThat(types).containsEntry("bulwark_requests_seconds", "histogram");
            assertThat(types).containsKey("bulwark_upstream_requests_seconds");
            assertThat(types).containsKey("jvm_memory_used_bytes");
            assertThat(types).containsKey("netty_allocator_memory_used");
            assertThat(types).containsKey("netty_eventexecutor_tasks_pending");
            assertThat(response.body()).contains(
                    "bulwark_requests_seconds_count{cluster=\"app\",route=\"main\",status=\"200\"} 2");
        }
    }

    @Test
    void everyMetricHasHelpText() throws Exception {
        // promtool check metrics warns "no help text" for a family whose HELP line is empty.
        try (TestUpstream up = TestUpstream.start("a", TestUpstream.echo("a"));
             ProxyHarness proxy = ProxyHarness.start("""
                     clusters { app { endpoints = [ "%s" ] } }
                     routes = [ { name = main, match { path-prefix = "/" }, cluster = app } ]
                     """.formatted(up.address()))) {
            proxy.get("/x");
            // The request is counted as its exchange completes, just after the client has its response.
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() ->
                    proxy.admin("/metrics").body().contains("# HELP bulwark_requests_seconds "));
            String body = proxy.admin("/metrics").body();
            Map<String, String> help = new HashMap<>();
            for (String line : body.split("\n")) {
                if (line.startsWith("# HELP ")) {
                    String[] parts = line.split(" ", 4);
                    help.put(parts[2], parts.length < 4 ? "" : parts[3].trim());
                }
            }
            assertThat(help).containsKeys("netty_allocator_memory_used", "netty_eventexecutor_tasks_pending",
                    "bulwark_requests_seconds", "bulwark_access_log_skipped_total", "bulwark_access_log_dropped_total");
            assertThat(help).allSatisfy((name, text) -> assertThat(text).as("HELP of " + name).isNotEmpty());
        }
    }

    private static String familyOf(String sample, Map<String, String> types) {
        if (types.containsKey(sample)) {
            return sample;
        }
        for (String suffix : new String[] {"_bucket", "_count", "_sum", "_total", "_created", "_max"}) {
            if (sample.endsWith(suffix)) {
                String base = sample.substring(0, sample.length() - suffix.length());
                if (types.containsKey(base)) {
                    return base;
                }
            }
        }
        return null;
    }
}
