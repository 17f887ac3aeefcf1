package io.bulwark.proxy.http;

import io.bulwark.proxy.http.MalformedRequests.Case;
import io.bulwark.proxy.http.MalformedRequests.Where;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The scanner on its own: valid bytes pass unchanged however they are split; violations are reported once. */
class StrictHttpScannerTest {

    private static final String BAD_REQUEST_AS_DATA = "GET /admin HTTP/1.1\r\nX: \u0000\n";

    static Stream<String> validRequests() {
        String host = "Host: example.com\r\n";
        return Stream.of(
                "GET / HTTP/1.1\r\n" + host + "\r\n",
                "GET /search?q=a%20b&x=1 HTTP/1.1\r\n" + host + "Accept: */*\r\nX-Empty:\r\n\r\n",
                "\r\n\r\nGET / HTTP/1.1\r\n" + host + "\r\n",
                "GET / HTTP/1.0\r\n\r\n",
                "POST /upload HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello",
                "POST /upload HTTP/1.1\r\n" + host + "Content-Length:   0005  \r\n\r\nhello",
                "POST /upload HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n",
                "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "POST / HTTP/1.1\r\n" + host + "transfer-encoding:  CHUNKED \r\n\r\n000A\r\n0123456789\r\n0\r\n\r\n",
                "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n"
                        + "5;name=value;flag ; q=\"a \\\"quoted\\\" ;value\"\r\nhello\r\n"
                        + "3 ;x=y\r\nabc\r\n0;last\r\nX-Checksum: abc\r\nX-Other:  v \r\n\r\n",
                "POST / HTTP/1.1\r\n" + host + "Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
                "OPTIONS * HTTP/1.1\r\n" + host + "\r\n",
                "GET http://example.com/a?b HTTP/1.1\r\n" + host + "\r\n",
                "GET HTTPS://example.com:8443/ HTTP/1.1\r\n" + host + "\r\n",
                "PATCH /x HTTP/1.1\r\n" + host + "X-Obs-Text: caf\u00e9 \t tab\r\nX-Tchar: !#$%&'*+-.^_`|~\r\n\r\n",
                "M-SEARCH /x HTTP/1.1\r\n" + host + "\r\n",
                // Bodies are not parsed: what looks like a bad request inside one is just data.
                "POST / HTTP/1.1\r\n" + host + "Content-Length: " + BAD_REQUEST_AS_DATA.length() + "\r\n\r\n"
                        + BAD_REQUEST_AS_DATA,
                "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n4\r\n\r\n\u0000\n\r\n0\r\n\r\n",
                // Pipelined: CL body, chunked body, HTTP/1.0, a bodiless GET.
                "POST /a HTTP/1.1\r\n" + host + "Content-Length: 3\r\n\r\nabc"
                        + "POST /b HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
                        + "\r\nGET /c HTTP/1.0\r\n\r\n"
                        + "GET /d HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n");
    }

    static Stream<Case> malformed() {
        return MalformedRequests.all().stream();
    }

    static Stream<Case> malformedHeads() {
        return malformed().filter(c -> c.where() == Where.HEAD);
    }

    @ParameterizedTest
    @MethodSource("validRequests")
    void validBytesPassUnchangedInOneBuffer(String raw) {
        Scan scan = new Scan();
        scan.write(bytes(raw));
        assertThat(scan.finish()).isEqualTo(raw);
        assertThat(scan.violations).isEmpty();
        assertThat(scan.scanner.betweenMessages()).isTrue();
    }

    @ParameterizedTest
    @MethodSource("validRequests")
    void validBytesPassUnchangedOneByteAtATime(String raw) {
        Scan scan = new Scan();
        for (byte b : bytes(raw)) {
            scan.write(new byte[] {b});
        }
        assertThat(scan.finish()).isEqualTo(raw);
        assertThat(scan.violations).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("validRequests")
    void validBytesPassUnchangedWhenSplitAtEveryBoundary(String raw) {
        byte[] all = bytes(raw);
        for (int split = 1; split < all.length; split++) {
            Scan scan = new Scan();
            scan.write(java.util.Arrays.copyOfRange(all, 0, split));
            scan.write(java.util.Arrays.copyOfRange(all, split, all.length));
            assertThat(scan.finish()).as("split at %d", split).isEqualTo(raw);
            assertThat(scan.violations).as("split at %d", split).isEmpty();
        }
    }

    @Test
    void aValidBufferIsForwardedAsTheSameInstance() {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpScanner());
        ByteBuf in = Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII);
        channel.writeInbound(in);
        ByteBuf out = channel.readInbound();
        assertThat(out).isSameAs(in);
        out.release();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aViolationInsideABufferForwardsASliceOfItsValidPrefixNotACopy() {
        Scan scan = new Scan();
        String raw = "GET / HTTP/1.1\r\nHost: x\r\nX-A: \u0000\r\n\r\n";
        ByteBuf in = Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1);
        scan.channel.writeInbound(in);
        ByteBuf prefix = scan.channel.readInbound();
        assertThat(prefix.toString(StandardCharsets.ISO_8859_1)).isEqualTo(raw.substring(0, raw.indexOf('\u0000')));
        in.setByte(0, 'P'); // the prefix shares the input's memory
        assertThat(prefix.getByte(0)).isEqualTo((byte) 'P');
        prefix.release();
        assertThat(in.refCnt()).isZero();
        assertThat(scan.violations).containsExactly(new HttpViolation(400, "control character in a header field value"));
        assertThat(scan.finish()).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void violationIsReportedOnceWithItsStatus(Case c) {
        Scan scan = new Scan();
        scan.write(bytes(c.raw()));
        String forwarded = scan.finish();
        assertThat(scan.violations).hasSize(1);
        assertThat(scan.violations.get(0).status()).isEqualTo(c.status());
        assertThat(scan.violations.get(0).reason()).isNotBlank();
        assertThat(c.raw()).startsWith(forwarded);
        assertThat(forwarded.length()).isLessThan(c.raw().length());
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void sameViolationAtTheSameByteWhenFedOneByteAtATime(Case c) {
        Scan whole = new Scan();
        whole.write(bytes(c.raw()));
        String forwardedWhole = whole.finish();

        Scan bytewise = new Scan();
        for (byte b : bytes(c.raw())) {
            bytewise.write(new byte[] {b});
        }
        assertThat(bytewise.finish()).isEqualTo(forwardedWhole);
        assertThat(bytewise.violations).isEqualTo(whole.violations);
    }

    @ParameterizedTest
    @MethodSource("malformedHeads")
    void noRequestIsDecodedFromARefusedHead(Case c) {
        List<Object> decoded = new ArrayList<>();
        List<HttpViolation> violations = new ArrayList<>();
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpScanner(), proxyCodec(),
                new Recorder(violations));
        channel.writeInbound(Unpooled.wrappedBuffer(bytes(c.raw())));
        channel.finish(); // end of input: a decoder holding a partial head must still not make a request of it
        Object msg;
        while ((msg = channel.readInbound()) != null) {
            decoded.add(msg instanceof HttpRequest r && r.decoderResult().isSuccess() ? r.uri() : msg.getClass());
            ReferenceCountUtil.release(msg);
        }
        assertThat(violations).hasSize(1);
        assertThat(decoded).noneMatch(m -> m instanceof String);
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void bytesAfterAViolationAreReleasedAndIgnored() {
        Scan scan = new Scan();
        scan.write(bytes("GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n"));
        ByteBuf later = Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII);
        scan.channel.writeInbound(later);
        assertThat(later.refCnt()).isZero();
        assertThat(scan.finish()).isEqualTo("GET / HTTP/1.1\r\nHost: x\r\nBad");
        assertThat(scan.violations).containsExactly(
                new HttpViolation(400, "whitespace between a header field name and the colon"));
        assertThat(scan.scanner.refused()).isTrue();
    }

    @Test
    void aViolationInAPipelinedRequestForwardsTheCompleteOnesBeforeIt() {
        String first = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
        Scan scan = new Scan();
        scan.write(bytes(first + "GET /b HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"));
        // Everything up to the LF that ends the second Host line: its CR, but not the LF.
        assertThat(scan.finish()).isEqualTo(first + "GET /b HTTP/1.1\r\nHost: x\r\nHost: y\r");
        assertThat(scan.violations).containsExactly(new HttpViolation(400, "more than one Host header"));
    }

    @Test
    void aHeaderLineLongerThan64KiBIsScannedWithoutBuffering() {
        String value = "v".repeat(100 * 1024);
        String raw = "GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + value + "\r\n\r\n";
        Scan scan = new Scan();
        byte[] all = bytes(raw);
        for (int i = 0; i < all.length; i += 1000) {
            scan.write(java.util.Arrays.copyOfRange(all, i, Math.min(all.length, i + 1000)));
        }
        assertThat(scan.finish()).isEqualTo(raw);
        assertThat(scan.violations).isEmpty();
    }

    @Test
    void aTransferEncodingValueLongerThanItsCapIsRefused() {
        Scan scan = new Scan();
        scan.write(bytes("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + "a".repeat(100) + "\r\n\r\n"));
        scan.finish();
        assertThat(scan.violations).extracting(HttpViolation::status).containsExactly(400);
    }

    @Test
    void aChunkLineOfExactlyTheLimitPassesAndOneMoreByteIsRefused() {
        String ext = ";a=" + "b".repeat(ChunkLineParser.MAX_LINE - 4);
        String head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        String atLimit = head + "1" + ext + "\r\nx\r\n0\r\n\r\n";
        Scan ok = new Scan();
        ok.write(bytes(atLimit));
        assertThat(ok.finish()).isEqualTo(atLimit);
        assertThat(ok.violations).isEmpty();

        Scan over = new Scan();
        over.write(bytes(head + "1" + ext + "b\r\nx\r\n0\r\n\r\n"));
        over.finish();
        assertThat(over.violations).containsExactly(new HttpViolation(400, "chunk-size line longer than 4096 bytes"));
    }

    @Test
    void contentLengthOfEighteenDigitsIsAcceptedAndNineteenRefused() {
        Scan ok = new Scan();
        String eighteen = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 000000000000000001\r\n\r\nx";
        ok.write(bytes(eighteen));
        assertThat(ok.finish()).isEqualTo(eighteen);
        assertThat(ok.violations).isEmpty();

        Scan over = new Scan();
        over.write(bytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0000000000000000001\r\n\r\nx"));
        over.finish();
        assertThat(over.violations).extracting(HttpViolation::status).containsExactly(400);
    }

    @Test
    void aRequestEndingMidBodyIsNotBetweenMessages() {
        Scan scan = new Scan();
        scan.write(bytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
        assertThat(scan.scanner.betweenMessages()).isFalse();
        scan.write(bytes("defghij"));
        assertThat(scan.scanner.betweenMessages()).isTrue();
        scan.finish();
    }

    @Test
    void nonBufferMessagesPassThrough() {
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpScanner());
        Object event = "not a buffer";
        channel.writeInbound(event);
        assertThat(channel.<Object>readInbound()).isSameAs(event);
        assertFalse(channel.finishAndReleaseAll());
    }

    // ------------------------------------------------------------------ helpers

    static byte[] bytes(String raw) {
        return raw.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The decoder exactly as the listener configures it (ProxyServer.addCodec). */
    static HttpServerCodec proxyCodec() {
        return new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(16384)
                .setMaxChunkSize(16 * 1024)
                .setAllowDuplicateContentLengths(false)
                .setAllowPartialChunks(true)
                .setValidateHeaders(true)
                .setStrictLineParsing(true));
    }

    /** Records the violations the scanner fires. */
    static final class Recorder extends ChannelInboundHandlerAdapter {
        private final List<HttpViolation> violations;

        Recorder(List<HttpViolation> violations) {
            this.violations = violations;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof HttpViolation v) {
                violations.add(v);
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    /** A scanner in an EmbeddedChannel: write bytes, collect what it forwards and the violations it fires. */
    static final class Scan {
        final StrictHttpScanner scanner = new StrictHttpScanner();
        final List<HttpViolation> violations = new ArrayList<>();
        final EmbeddedChannel channel = new EmbeddedChannel(scanner, new Recorder(violations));

        void write(byte[] chunk) {
            channel.writeInbound(Unpooled.wrappedBuffer(chunk));
        }

        /** Everything forwarded, as ISO-8859-1; closes the channel and checks nothing was left over. */
        String finish() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuf buf;
            while ((buf = channel.readInbound()) != null) {
                byte[] b = new byte[buf.readableBytes()];
                buf.readBytes(b);
                out.writeBytes(b);
                buf.release();
            }
            assertFalse(channel.finishAndReleaseAll());
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
