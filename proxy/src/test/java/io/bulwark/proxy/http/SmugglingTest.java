package io.bulwark.proxy.http;

import io.bulwark.proxy.http.MalformedRequests.Case;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import io.netty.handler.codec.http.HttpRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Malformed and ambiguous requests over raw sockets through the real proxy: each is refused with
 * its status and {@code x-bulwark-error}, the connection is closed, and nothing of it reaches the
 * upstream — in particular no smuggled {@code GET /admin}. Valid controls prove the scanner does
 * not refuse what it must pass.
 */
class SmugglingTest {

    /** Requests whose body the upstream received completely (it answers only then). */
    static final AtomicInteger completed = new AtomicInteger();
    static TestUpstream upstream;
    static ProxyHarness proxy;

    @BeforeAll
    static void start() throws Exception {
        upstream = TestUpstream.start("app", (request, bodyBytes) -> {
            completed.incrementAndGet();
            return Reply.ok("{\"uri\":\"" + request.uri() + "\",\"body_bytes\":" + bodyBytes + "}");
        });
        proxy = ProxyHarness.start("""
                clusters { app { endpoints = [ "%s" ] } }
                routes = [ { name = app, match { path-prefix = "/" }, cluster = app } ]
                """.formatted(upstream.address()));
    }

    @AfterAll
    static void stop() {
        proxy.close();
        upstream.close();
    }

    /** Awaits a condition that must hold now and keep holding for a moment (a late forward would break it). */
    private static org.awaitility.core.ConditionFactory stays() {
        return await().during(Duration.ofMillis(100)).pollInterval(Duration.ofMillis(10)).atMost(Duration.ofSeconds(2));
    }

    static Stream<Case> malformed() {
        return MalformedRequests.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void isRefusedClosedAndNeverForwarded(Case c) throws Exception {
        int requestsBefore = upstream.requests();
        int completedBefore = completed.get();
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send(c.raw());
            RawHttp.Response r = raw.read();
            assertThat(r).as("a response").isNotNull();
            assertThat(r.status()).isEqualTo(c.status());
            assertThat(r.header("x-bulwark-error")).isEqualTo(c.code());
            assertThat(r.body()).contains("malformed request: ");
            assertThat(raw.closedByPeer(5_000)).as("connection closed").isTrue();
        }
        switch (c.where()) {
            case HEAD -> stays()
                    .until(() -> upstream.requests() == requestsBefore);
            case BODY -> {
                stays()
                        .until(() -> completed.get() == completedBefore);
                assertThat(upstream.requests()).isLessThanOrEqualTo(requestsBefore + 1);
            }
            case LATER_REQUEST -> stays()
                    .until(() -> upstream.requests() <= requestsBefore + 1);
        }
        assertThat(upstream.received()).extracting(HttpRequest::uri).noneMatch(uri -> uri.contains("admin"));
    }

    @Test
    void chunkedBodyWithExtensionsAndTrailersIsForwardedAndKeepsTheConnection() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;name=value;q=\"a;b\"\r\nhello\r\n3 ;x\r\nabc\r\n0\r\nX-Checksum: 1234\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).contains("\"uri\":\"/chunked\"", "\"body_bytes\":8");
            raw.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(raw.read().body()).contains("\"uri\":\"/again\"");
        }
    }

    @Test
    void expectContinueGetsAnInterimResponseThenTheUpstreamAnswer() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("PUT /expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(100);
            raw.send("body");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).contains("\"body_bytes\":4");
        }
    }

    @Test
    void pipelinedValidRequestsAreAllAnsweredInOrder() throws Exception {
        // Bodies only on the first request of each batch: a pipelined request with a body waiting in
        // the frontend's backlog is a separate (frontend) matter, not the scanner's.
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("POST /p1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /p2 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "\r\nGET /p3 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(raw.read().body()).contains("\"uri\":\"/p1\"", "\"body_bytes\":3");
            assertThat(raw.read().body()).contains("\"uri\":\"/p2\"", "\"body_bytes\":0");
            assertThat(raw.read().body()).contains("\"uri\":\"/p3\"");
            raw.send("POST /p4 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
                    + "GET /p5 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(raw.read().body()).contains("\"uri\":\"/p4\"", "\"body_bytes\":2");
            assertThat(raw.read().body()).contains("\"uri\":\"/p5\"");
            assertThat(raw.closedByPeer(200)).isFalse();
        }
    }

    @Test
    void contentLengthWithLeadingZerosAndWhitespaceIsForwarded() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length:  005 \r\n\r\nhello");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).contains("\"body_bytes\":5");
        }
    }

    @Test
    void leadingEmptyLinesAndHttp10WithoutHostAreForwarded() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("\r\n\r\nGET /ten HTTP/1.0\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).contains("\"uri\":\"/ten\"");
        }
    }

    @Test
    void absoluteFormTargetPassesTheScannerAndIsForwardedInOriginForm() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("GET http://x/abs HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(upstream.received().get(upstream.received().size() - 1).uri()).isEqualTo("/abs");
        }
    }

    @Test
    void optionsAsteriskPassesTheScanner() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response r = raw.read();
            // Whatever routing makes of "*", it is not refused as malformed and the connection stays.
            assertThat(r.status()).isNotEqualTo(400);
            assertThat(r.body()).doesNotContain("malformed request");
            assertThat(raw.closedByPeer(200)).isFalse();
        }
    }

    @Test
    void aViolationInTheBodyOfAForwardedRequestAbortsItAtTheUpstream() throws Exception {
        int completedBefore = completed.get();
        int connectionsBefore = upstream.openConnections();
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            await().atMost(Duration.ofSeconds(5)).until(() -> upstream.received().stream()
                    .anyMatch(r -> r.uri().equals("/body")));
            raw.send("3\r\nabcXX0\r\n\r\n"); // chunk data not followed by CRLF
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.body()).contains("chunk data not followed by CRLF");
            assertThat(raw.closedByPeer(5_000)).isTrue();
        }
        // The upstream connection that carried the half body is dropped, never reused.
        await().atMost(Duration.ofSeconds(5)).until(() -> upstream.openConnections() <= connectionsBefore);
        assertThat(completed.get()).isEqualTo(completedBefore);
    }
}
