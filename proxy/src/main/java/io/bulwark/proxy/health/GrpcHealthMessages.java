package io.bulwark.proxy.health;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * The two messages of the standard gRPC health check ({@code grpc/health/v1/health.proto}),
 * encoded by hand — they are a few bytes, and the proxy carries no protobuf runtime:
 * {@code HealthCheckRequest { string service = 1; }} as a length-prefixed gRPC message, and
 * {@code HealthCheckResponse { ServingStatus status = 1; }} read from one.
 */
final class GrpcHealthMessages {

    /** {@code HealthCheckResponse.ServingStatus} values. */
    static final int UNKNOWN = 0;
    static final int SERVING = 1;
    static final int NOT_SERVING = 2;
    static final int SERVICE_UNKNOWN = 3;
    /** Not a status: the message could not be read. */
    static final int MALFORMED = -1;

    /** A gRPC message frame: 1 byte compressed flag and 4 bytes of length before the message. */
    static final int FRAME_HEADER = 5;

    private GrpcHealthMessages() {
    }

    /** The framed request for {@code service} ("" = the server as a whole: the field is then left out). */
    static byte[] request(String service) {
        byte[] name = service.getBytes(StandardCharsets.UTF_8);
        int messageLength = name.length == 0 ? 0 : 1 + varintSize(name.length) + name.length;
        byte[] frame = new byte[FRAME_HEADER + messageLength];
        frame[1] = (byte) (messageLength >>> 24);
        frame[2] = (byte) (messageLength >>> 16);
        frame[3] = (byte) (messageLength >>> 8);
        frame[4] = (byte) messageLength;
        if (name.length > 0) {
            int at = FRAME_HEADER;
            frame[at++] = 0x0A; // field 1, wire type 2 (length-delimited)
            for (int n = name.length; ; n >>>= 7) {
                if (n < 0x80) {
                    frame[at++] = (byte) n;
                    break;
                }
                frame[at++] = (byte) ((n & 0x7F) | 0x80);
            }
            System.arraycopy(name, 0, frame, at, name.length);
        }
        return frame;
    }

    private static int varintSize(int n) {
        int size = 1;
        while (n >= 0x80) {
            n >>>= 7;
            size++;
        }
        return size;
    }

    /**
     * The serving status of a framed, uncompressed {@code HealthCheckResponse} (all of
     * {@code frame}'s readable bytes); {@link #MALFORMED} when it is not one. Fields other than
     * {@code status} are skipped; an absent status is UNKNOWN (proto3 leaves out zero values).
     */
    static int servingStatus(ByteBuf frame) {
        if (frame.readableBytes() < FRAME_HEADER || frame.getByte(frame.readerIndex()) != 0) {
            return MALFORMED; // too short, or compressed (we never offered a compression)
        }
        long length = frame.getUnsignedInt(frame.readerIndex() + 1);
        int at = frame.readerIndex() + FRAME_HEADER;
        int end = frame.writerIndex();
        if (length != end - at) {
            return MALFORMED;
        }
        int status = UNKNOWN;
        while (at < end) {
            long key = varint(frame, at, end);
            if (key < 0) {
                return MALFORMED;
            }
            at += (int) (key >>> 56);
            long tag = key & VALUE_MASK;
            int wireType = (int) (tag & 7);
            long field = tag >>> 3;
            switch (wireType) {
                case 0 -> {
                    long value = varint(frame, at, end);
                    if (value < 0) {
                        return MALFORMED;
                    }
                    at += (int) (value >>> 56);
                    if (field == 1) {
                        status = (int) (value & VALUE_MASK);
                    }
                }
                case 1 -> at += 8;
                case 2 -> {
                    long len = varint(frame, at, end);
                    if (len < 0) {
                        return MALFORMED;
                    }
                    at += (int) (len >>> 56) + (int) Math.min(Integer.MAX_VALUE, len & VALUE_MASK);
                }
                case 5 -> at += 4;
                default -> {
                    return MALFORMED;
                }
            }
            if (at > end || at < 0) {
                return MALFORMED;
            }
        }
        return status;
    }

    private static final long VALUE_MASK = (1L << 56) - 1;

    /**
     * A varint at {@code at}: its value (up to 56 bits) in the low bits and its size in bytes in
     * the top byte; -1 when it runs past {@code end} or is longer than 8 bytes.
     */
    private static long varint(ByteBuf in, int at, int end) {
        long value = 0;
        for (int i = 0; i < 8 && at + i < end; i++) {
            int b = in.getByte(at + i) & 0xFF;
            value |= (long) (b & 0x7F) << (7 * i);
            if (b < 0x80) {
                return ((long) (i + 1) << 56) | value;
            }
        }
        return -1;
    }

    /** The name of a serving status, for events. */
    static String name(int status) {
        return switch (status) {
            case UNKNOWN -> "UNKNOWN";
            case SERVING -> "SERVING";
            case NOT_SERVING -> "NOT_SERVING";
            case SERVICE_UNKNOWN -> "SERVICE_UNKNOWN";
            default -> "status " + status;
        };
    }
}
