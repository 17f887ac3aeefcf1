package io.bulwark.proxy.server;

import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The gRPC form of local replies: which codes have one, their statuses, and grpc-message's encoding. */
class LocalReplyGrpcTest {

    @Test
    void grpcMessageIsPercentEncodedUtf8() {
        assertThat(LocalReply.percentEncode("no route for POST /a.B/C")).isEqualTo("no route for POST /a.B/C");
        assertThat(LocalReply.percentEncode("100% é\n")).isEqualTo("100%25 %C3%A9%0A");
    }

    @Test
    void refusalsOfARequestThatIsNotYetACallStayPlain() {
        for (LocalReply plain : new LocalReply[] {LocalReply.BAD_REQUEST, LocalReply.REQUEST_TIMEOUT,
                LocalReply.BODY_TOO_LARGE, LocalReply.URI_TOO_LONG, LocalReply.HEADERS_TOO_LARGE}) {
            assertThat(plain.grpcForm()).as(plain.code()).isFalse();
            assertThat(plain.httpStatus(true, 0)).isEqualTo(plain.status());
        }
        assertThat(LocalReply.UPSTREAM_RESET.grpcStatus(0)).isEqualTo(14);
        assertThat(LocalReply.UPSTREAM_PROTOCOL_ERROR.grpcStatus(0)).isEqualTo(14);
        assertThat(LocalReply.OVERLOADED.grpcStatus(0)).isEqualTo(14);
        assertThat(LocalReply.FAULT_INJECTED.grpcStatus(429)).isEqualTo(14);
        assertThat(LocalReply.FAULT_INJECTED.httpStatus(true, 429)).isEqualTo(200);
        assertThat(LocalReply.FAULT_INJECTED.httpStatus(false, 429)).isEqualTo(429);
    }

    @Test
    void theGrpcReplyIsTrailersOnly() {
        FullHttpResponse r = LocalReply.OVERLOADED.build(UnpooledByteBufAllocator.DEFAULT, HttpVersion.HTTP_1_1,
                "cluster x is full", "id-1", 0, true);
        try {
            assertThat(r.status().code()).isEqualTo(200);
            assertThat(r.content().readableBytes()).isZero();
            assertThat(r.headers().get("grpc-status")).isEqualTo("14");
            assertThat(r.headers().get("grpc-message")).isEqualTo("cluster x is full");
            assertThat(r.headers().get("content-type")).isEqualTo("application/grpc");
            assertThat(r.headers().get("content-length")).isEqualTo("0");
            assertThat(r.headers().get("x-bulwark-error")).isEqualTo("overloaded");
            assertThat(r.headers().get("x-request-id")).isEqualTo("id-1");
        } finally {
            r.release();
        }
    }
}
