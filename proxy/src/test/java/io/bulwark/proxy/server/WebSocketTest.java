package io.bulwark.proxy.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.bulwark.proxy.testing.AccessLogCapture;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A WebSocket upgrade passes through once the upstream answers 101; frames then flow both ways. */
class WebSocketTest {

    static TestUpstream upstream;
    static ProxyHarness proxy;

    @BeforeAll
    static void start() throws Exception {
        upstream = TestUpstream.webSocketEcho("ws");
        proxy = ProxyHarness.start("""
                clusters { ws { endpoints = [ "%s" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = ws } ]
                """.formatted(upstream.address()));
    }

    @AfterAll
    static void stop() {
        proxy.close();
        upstream.close();
    }

    @Test
    void echoesMessagesThroughTheProxy() throws Exception {
        int connectionsBefore = upstream.connectionsAccepted();
        LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
        WebSocket ws = proxy.client().newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port() + "/"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        received.add(data.toString());
                        webSocket.request(1);
                        return CompletableFuture.completedFuture(null);
                    }
                }).get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 5; i++) {
            ws.sendText("hello " + i, true).get(5, TimeUnit.SECONDS);
            assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: hello " + i);
        }
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        assertThat(upstream.connectionsAccepted()).isEqualTo(connectionsBefore + 1);
    }

    @Test
    void theAccessLogLineIsWrittenWhenTheTunnelEndsWithItsDurationAndBytes() throws Exception {
        try (AccessLogCapture log = new AccessLogCapture()) {
            LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
            CompletableFuture<Void> closed = new CompletableFuture<>();
            long opening = System.nanoTime();
            WebSocket ws = proxy.client().newWebSocketBuilder()
                    .header("X-Request-Id", "ws-tunnel-1")
                    .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port() + "/chat"), new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                            received.add(data.toString());
                            webSocket.request(1);
                            return CompletableFuture.completedFuture(null);
                        }

                        @Override
                        public CompletionStage<?> onClose(WebSocket webSocket, int status, String reason) {
                            closed.complete(null);
                            return null;
                        }
                    }).get(10, TimeUnit.SECONDS);
            int textFrames = 5;
            for (int i = 0; i < textFrames; i++) {
                ws.sendText("hello " + i, true).get(5, TimeUnit.SECONDS); // 7 bytes each
                assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: hello " + i); // 13 bytes each
            }
            Thread.sleep(300); // the tunnel stays open a while: its line must cover that time
            assertThat(log.lines()).as("no line while the tunnel is open")
                    .noneMatch(l -> l.get("request_id").asText().equals("ws-tunnel-1"));

            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
            closed.get(5, TimeUnit.SECONDS);
            long openMillis = (System.nanoTime() - opening) / 1_000_000;

            JsonNode line = log.awaitRequest("ws-tunnel-1");
            assertThat(line.get("status").asInt()).isEqualTo(101);
            assertThat(line.get("path").asText()).isEqualTo("/chat");
            assertThat(line.get("upstream").asText()).isEqualTo(upstream.address());
            // Frames from the client are masked: 2 header bytes + 4 mask bytes + payload.
            assertThat(line.get("bytes_in").asLong()).isGreaterThanOrEqualTo(textFrames * (6 + 7));
            assertThat(line.get("bytes_out").asLong()).isGreaterThanOrEqualTo(textFrames * (2 + 13));
            // It covers the whole tunnel, not just the handshake.
            assertThat(line.get("duration_ms").asDouble()).isBetween(300.0, openMillis + 1_000.0);
            assertThat(log.lines()).filteredOn(l -> l.get("request_id").asText().equals("ws-tunnel-1")).hasSize(1);
        }
    }
}
