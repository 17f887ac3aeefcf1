package io.bulwark.proxy.health;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.bulwark.proxy.health.HealthResponseParser.DONE;
import static io.bulwark.proxy.health.HealthResponseParser.FAILED;
import static io.bulwark.proxy.health.HealthResponseParser.MORE;
import static org.assertj.core.api.Assertions.assertThat;

class HealthResponseParserTest {

    private final HealthResponseParser parser = new HealthResponseParser();

    /** Feeds {@code text} in pieces of {@code step} bytes; returns the last result. */
    private int feed(String text, int step) {
        parser.reset();
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        int result = MORE;
        for (int i = 0; i < bytes.length && result == MORE; i += step) {
            ByteBuf piece = Unpooled.wrappedBuffer(bytes, i, Math.min(step, bytes.length - i));
            try {
                result = parser.feed(piece);
            } finally {
                piece.release();
            }
        }
        return result;
    }

    @Test
    void readsAContentLengthResponseWhateverHowItIsSplit() {
        String response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 3\r\n\r\nok\n";
        for (int step = 1; step <= response.length(); step++) {
            assertThat(feed(response, step)).as("in pieces of %d", step).isEqualTo(DONE);
            assertThat(parser.status()).isEqualTo(200);
            assertThat(parser.keepAlive()).isTrue();
        }
    }

    @Test
    void readsAChunkedBodyWithExtensionsAndTrailers() {
        String response = "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                + "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nx-trailer: y\r\n\r\n";
        for (int step = 1; step <= response.length(); step++) {
            assertThat(feed(response, step)).as("in pieces of %d", step).isEqualTo(DONE);
            assertThat(parser.status()).isEqualTo(503);
            assertThat(parser.keepAlive()).isTrue();
        }
    }

    @Test
    void leavesWhatFollowsTheResponseUnread() {
        parser.reset();
        ByteBuf in = Unpooled.copiedBuffer("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200", StandardCharsets.US_ASCII);
        try {
            assertThat(parser.feed(in)).isEqualTo(DONE);
            assertThat(in.readableBytes()).isEqualTo("HTTP/1.1 200".length());
        } finally {
            in.release();
        }
    }

    @Test
    void skipsInterimAnswers() {
        assertThat(feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 7)).isEqualTo(DONE);
        assertThat(parser.status()).isEqualTo(200);
    }

    @Test
    void connectionCloseAndHttp10AreNotKept() {
        assertThat(feed("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n", 100)).isEqualTo(DONE);
        assertThat(parser.keepAlive()).isFalse();
        assertThat(feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 100)).isEqualTo(DONE);
        assertThat(parser.keepAlive()).isFalse();
        assertThat(feed("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 100)).isEqualTo(DONE);
        assertThat(parser.keepAlive()).isTrue();
    }

    @Test
    void aBodyWithoutLengthRunsUntilTheConnectionCloses() {
        assertThat(feed("HTTP/1.1 200 OK\r\n\r\nsome body", 4)).isEqualTo(MORE);
        assertThat(parser.untilClose()).isTrue();
        assertThat(parser.closed()).isEqualTo(DONE);
        assertThat(parser.status()).isEqualTo(200);
        assertThat(parser.keepAlive()).isFalse();
    }

    @Test
    void aConnectionClosedMidResponseFails() {
        assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100)).isEqualTo(MORE);
        assertThat(parser.closed()).isEqualTo(FAILED);
        assertThat(parser.failure()).isEqualTo("connection closed before a complete response");
    }

    @Test
    void refusesWhatItCannotFrame() {
        assertThat(feed("garbage\r\n\r\n", 100)).isEqualTo(FAILED);
        assertThat(parser.failure()).isEqualTo("malformed status line");
        assertThat(feed("HTTP/1.1 2x0 OK\r\n\r\n", 100)).isEqualTo(FAILED);
        assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 100)).isEqualTo(FAILED);
        assertThat(parser.failure()).isEqualTo("invalid Content-Length");
        assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 100)).isEqualTo(FAILED);
        assertThat(feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100)).isEqualTo(FAILED);
        assertThat(parser.failure()).isEqualTo("invalid chunk size");
        assertThat(feed("HTTP/1.1 200 OK\r\nX: " + "a".repeat(HealthResponseParser.MAX_LINE) + "\r\n\r\n", 1000))
                .isEqualTo(FAILED);
        assertThat(parser.keepAlive()).isFalse();
    }
}
