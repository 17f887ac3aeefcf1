package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.RawHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The keep-alive race: an upstream that closes a kept-alive connection just as its second
 * request arrives (as one whose idle timeout fires at that moment). Safe requests are replayed on
 * a fresh connection and the client never sees it; an unsafe one is not replayed.
 */
class KeepAliveRaceTest {

    ServerSocket server;
    Thread acceptor;
    final AtomicInteger requestsAnswered = new AtomicInteger();
    final AtomicInteger requestsDropped = new AtomicInteger();
    ProxyHarness proxy;

    @BeforeEach
    void start() throws Exception {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    new Thread(() -> serve(s)).start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.start();
        proxy = ProxyHarness.start("""
                clusters { racy { endpoints = [ "127.0.0.1:%d" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = racy, retry { retry-on = [ connect-failure ] } } ]
                """.formatted(server.getLocalPort()));
    }

    /** Answers the first request of each connection, then drops the connection at the second. */
    private void serve(Socket s) {
        try (s) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream out = s.getOutputStream();
            for (int n = 0; ; n++) {
                String line = in.readLine();
                if (line == null) {
                    return;
                }
                int length = 0;
                String h;
                while ((h = in.readLine()) != null && !h.isEmpty()) {
                    if (h.toLowerCase().startsWith("content-length:")) {
                        length = Integer.parseInt(h.substring(15).trim());
                    }
                }
                for (int i = 0; i < length; i++) {
                    in.read();
                }
                if (n == 1) {
                    requestsDropped.incrementAndGet();
                    return; // closes the connection without an answer
                }
                requestsAnswered.incrementAndGet();
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
        } catch (IOException ignored) {
            // the proxy closed
        }
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        server.close();
        acceptor.join(2000);
    }

    @Test
    void idempotentRequestsNeverSeeTheRace() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            for (int i = 0; i < 6; i++) {
                raw.send("GET /r/" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(raw.read().status()).isEqualTo(200);
            }
        }
        assertThat(requestsDropped.get()).as("the race happened").isPositive();
        assertThat(requestsAnswered.get()).isEqualTo(6);
    }

    @Test
    void aPostWithAnIdempotencyKeyIsReplayedButOneWithoutIsNot() throws Exception {
        try (RawHttp raw = new RawHttp(proxy.port())) {
            raw.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
            assertThat(raw.read().status()).isEqualTo(200);
            raw.send("POST /b HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k-1\r\nContent-Length: 2\r\n\r\nhi");
            assertThat(raw.read().status()).isEqualTo(200);
            raw.send("POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
            RawHttp.Response unsafe = raw.read();
            assertThat(unsafe.status()).isEqualTo(502);
            assertThat(unsafe.header("x-bulwark-error")).isEqualTo("upstream_reset");
        }
    }
}
