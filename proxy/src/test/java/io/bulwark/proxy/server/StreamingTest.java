package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.proxy.testing.TestUpstream;
import io.bulwark.proxy.testing.TestUpstream.Reply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bodies stream both ways with back-pressure: a 1 GiB upload and a 1 GiB download pass
 * through a proxy running in this JVM, whose heap (and so Netty's direct memory) is capped at
 * 256 MiB by the module's surefire configuration.
 */
class StreamingTest {

    static final long GIB = 1024L * 1024 * 1024;

    static TestUpstream upstream;
    static ProxyHarness proxy;

    @BeforeAll
    static void start() throws Exception {
        upstream = TestUpstream.start("big", (req, bodyBytes) -> req.uri().startsWith("/download")
                ? Reply.generated(GIB)
                : Reply.ok("{\"received\":" + bodyBytes + "}"));
        proxy = ProxyHarness.start("""
                clusters { big { endpoints = [ "%s" ] } }
                routes = [ { match { path-prefix = "/" }, cluster = big, timeout = 300s } ]
                """.formatted(upstream.address()), "max-body-size = 0");
    }

    @AfterAll
    static void stop() {
        proxy.close();
        upstream.close();
    }

    @Test
    void maxHeapIsCappedForThisTest() {
        assertThat(Runtime.getRuntime().maxMemory()).isLessThanOrEqualTo(300L * 1024 * 1024);
    }

    @Test
    void oneGibUploadStreamsThrough() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(proxy.uri("/upload"))
                .timeout(Duration.ofSeconds(300))
                .POST(HttpRequest.BodyPublishers.fromPublisher(
                        HttpRequest.BodyPublishers.ofInputStream(() -> new ZeroStream(GIB))))
                .build();
        HttpResponse<String> r = proxy.client().send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"received\":" + GIB + "}");
    }

    @Test
    void oneGibDownloadStreamsThrough() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(proxy.uri("/download"))
                .timeout(Duration.ofSeconds(300)).build();
        HttpResponse<InputStream> r = proxy.client().send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        long total = 0;
        byte[] buf = new byte[256 * 1024];
        try (InputStream in = r.body()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                total += n;
            }
        }
        assertThat(total).isEqualTo(GIB);
    }

    /** {@code length} zero bytes, generated on the fly. */
    static final class ZeroStream extends InputStream {
        private long remaining;

        ZeroStream(long length) {
            this.remaining = length;
        }

        @Override
        public int read() {
            if (remaining <= 0) {
                return -1;
            }
            remaining--;
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (remaining <= 0) {
                return -1;
            }
            int n = (int) Math.min(len, remaining);
            java.util.Arrays.fill(b, off, off + n, (byte) 0);
            remaining -= n;
            return n;
        }
    }
}
