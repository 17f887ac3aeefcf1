package io.bulwark.proxy.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.proxy.log.AccessLog;
import io.bulwark.proxy.testing.AccessLogCapture;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests refused before their headers could be read (CONTRACT §3): each reply still carries a
 * request id, as a string in its body and in {@code X-Request-Id}, and the access log has a line
 * with that id and the error code.
 */
class EarlyRefusalTest {

    static TestUpstream ok;
    static ProxyHarness proxy;

    @BeforeAll
    static void start() throws Exception {
        ok = TestUpstream.start("ok", TestUpstream.echo("ok"));
        proxy = ProxyHarness.start("""
                clusters { ok { endpoints = [ "%s" ] } }
                routes = [ { name = ok, match { path-prefix = "/" }, cluster = ok } ]
                """.formatted(ok.address()),
                "max-initial-line-length = 1KiB\nmax-header-size = 2KiB\nrequest-header-timeout = 300ms");
    }

    @AfterAll
    static void stop() {
        proxy.close();
        ok.close();
    }

    private static final Pattern BODY_ID = Pattern.compile("\"request_id\":\"([^\"]+)\"");

    /** Sends {@code raw}, checks the refusal and its id, and returns the id. */
    private static String refusedWithAnId(String raw, int status, String code) throws Exception {
        try (RawHttp client = new RawHttp(proxy.port())) {
            client.send(raw);
            RawHttp.Response r = client.read();
            assertThat(r.status()).isEqualTo(status);
            assertThat(r.header("x-bulwark-error")).isEqualTo(code);
            Matcher m = BODY_ID.matcher(r.body());
            assertThat(m.find()).as("a string request_id in " + r.body()).isTrue();
            String id = r.header("x-request-id");
            assertThat(id).isNotBlank().isEqualTo(m.group(1));
            return id;
        }
    }

    private static void loggedWith(AccessLogCapture log, String id, int status, String code) {
        JsonNode line = log.awaitRequest(id);
        assertThat(line.get("status").asInt()).isEqualTo(status);
        assertThat(line.get("error").asText()).isEqualTo(code);
    }

    @Test
    void aSmugglingAttemptGetsAnIdAndALogLine() throws Exception {
        try (AccessLogCapture log = new AccessLogCapture()) {
            String id = refusedWithAnId("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "bad_request");
            loggedWith(log, id, 400, "bad_request");
        }
    }

    @Test
    void anObsFoldGetsAnIdAndALogLine() throws Exception {
        try (AccessLogCapture log = new AccessLogCapture()) {
            String id = refusedWithAnId("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400, "bad_request");
            loggedWith(log, id, 400, "bad_request");
        }
    }

    @Test
    void headersNotCompleteInTimeGetAnIdAndALogLine() throws Exception {
        try (AccessLogCapture log = new AccessLogCapture()) {
            String id = refusedWithAnId("GET / HTTP/1.1\r\nHost: x\r\n", 408, "request_timeout");
            loggedWith(log, id, 408, "request_timeout");
        }
    }

    @Test
    void aTooLongRequestLineGetsAnIdAndALogLine() throws Exception {
        try (AccessLogCapture log = new AccessLogCapture()) {
            String id = refusedWithAnId("GET /" + "a".repeat(2000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414,
                    "uri_too_long");
            loggedWith(log, id, 414, "uri_too_long");
        }
    }

    @Test
    void tooLargeHeadersGetAnIdAndALogLine() throws Exception {
        try (AccessLogCapture log = new AccessLogCapture()) {
            String id = refusedWithAnId("GET / HTTP/1.1\r\nHost: x\r\nx-big: " + "b".repeat(3000) + "\r\n\r\n", 431,
                    "headers_too_large");
            loggedWith(log, id, 431, "headers_too_large");
        }
    }

    @Test
    void aFloodOfGarbageIsLoggedOnlyUpToTheRateAndTheRestIsCounted() throws Exception {
        TestUpstream up = TestUpstream.start("flood", TestUpstream.echo("flood"));
        System.setProperty(AccessLog.REFUSALS_PER_SECOND_PROPERTY, "2");
        ProxyHarness limited;
        try {
            limited = ProxyHarness.start("""
                    clusters { ok { endpoints = [ "%s" ] } }
                    routes = [ { name = ok, match { path-prefix = "/" }, cluster = ok } ]
                    """.formatted(up.address()));
        } finally {
            System.clearProperty(AccessLog.REFUSALS_PER_SECOND_PROPERTY);
        }
        try (limited; up; AccessLogCapture log = new AccessLogCapture()) {
            int sent = 8;
            for (int i = 0; i < sent; i++) {
                try (RawHttp client = new RawHttp(limited.port())) {
                    client.send("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
                    assertThat(client.read().status()).isEqualTo(400);
                }
            }
            long skipped = limited.bulwark().proxyContext().accessLog().skipped();
            long logged = log.lines().stream().filter(l -> l.get("error").asText().equals("bad_request")).count();
            assertThat(skipped).as("at most 2 lines a second (and 2 at once) for %d refusals", sent)
                    .isGreaterThanOrEqualTo(sent - 4);
            assertThat(logged + skipped).isEqualTo(sent);
            assertThat(limited.admin("/metrics").body())
                    .contains("bulwark_access_log_skipped_total " + (double) skipped);
        }
    }
}
