package io.bulwark.proxy.health;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The hand-encoded health messages agree with protobuf's own encoding of health.proto. */
class GrpcHealthMessagesTest {

    @Test
    void theRequestIsWhatProtobufEncodes() throws Exception {
        for (String service : new String[] {"", "pkg.Users", "x".repeat(300)}) {
            byte[] framed = GrpcHealthMessages.request(service);
            byte[] message = Arrays.copyOfRange(framed, 5, framed.length);
            assertThat(message).isEqualTo(HealthCheckRequest.newBuilder().setService(service).build().toByteArray());
            assertThat(framed[0]).isZero();
            assertThat(Unpooled.wrappedBuffer(framed).getInt(1)).isEqualTo(message.length);
            assertThat(HealthCheckRequest.parseFrom(message).getService()).isEqualTo(service);
        }
    }

    @Test
    void theResponseStatusIsReadAsProtobufWritesIt() {
        for (ServingStatus s : new ServingStatus[] {ServingStatus.UNKNOWN, ServingStatus.SERVING,
                ServingStatus.NOT_SERVING, ServingStatus.SERVICE_UNKNOWN}) {
            assertThat(GrpcHealthMessages.servingStatus(framed(HealthCheckResponse.newBuilder().setStatus(s).build()
                    .toByteArray()))).as(s.name()).isEqualTo(s.getNumber());
        }
    }

    @Test
    void unknownFieldsAreSkippedAndBrokenFramesAreMalformed() {
        // field 2 (string "ab"), then field 1 = SERVING, then field 3 fixed32
        byte[] withExtras = {0x12, 2, 'a', 'b', 0x08, 1, 0x1D, 0, 0, 0, 0};
        assertThat(GrpcHealthMessages.servingStatus(framed(withExtras))).isEqualTo(GrpcHealthMessages.SERVING);
        ByteBuf shortFrame = Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0, 5, 0x08});
        assertThat(GrpcHealthMessages.servingStatus(shortFrame)).isEqualTo(GrpcHealthMessages.MALFORMED);
        ByteBuf compressed = Unpooled.wrappedBuffer(new byte[] {1, 0, 0, 0, 2, 0x08, 1});
        assertThat(GrpcHealthMessages.servingStatus(compressed)).isEqualTo(GrpcHealthMessages.MALFORMED);
        assertThat(GrpcHealthMessages.servingStatus(framed(new byte[] {0x08}))).isEqualTo(GrpcHealthMessages.MALFORMED);
        assertThat(GrpcHealthMessages.servingStatus(framed(new byte[] {0x0F, 1})))
                .as("wire type 7 does not exist").isEqualTo(GrpcHealthMessages.MALFORMED);
    }

    private static ByteBuf framed(byte[] message) {
        ByteBuf b = Unpooled.buffer(5 + message.length);
        b.writeByte(0).writeInt(message.length).writeBytes(message);
        return b;
    }
}
