package io.bulwark.proxy.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A hand-driven HTTP/2 client for attack tests: frames written byte by byte as the test says,
 * including sequences no well-behaved client (and no frame writer's API) would produce — a reset
 * after every HEADERS, endless CONTINUATION frames, SETTINGS in a loop. Header blocks are HPACK
 * encoded with Netty's encoder; what the server sends is read on a thread of its own into a queue
 * (its SETTINGS are acknowledged, so its limits apply).
 */
public final class RawH2 implements AutoCloseable {

    public static final int DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7,
            CONTINUATION = 9;
    public static final int END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4;

    /** One frame from the server; {@code type == -1} marks the end of the connection. */
    public record Frame(int type, int flags, int streamId, byte[] payload) {
        /** A GOAWAY's debug data (Netty puts the reason there). */
        public String debugText() {
            return type == GOAWAY && payload.length > 8
                    ? new String(payload, 8, payload.length - 8, java.nio.charset.StandardCharsets.UTF_8) : "";
        }

        /** The error code of a GOAWAY or RST_STREAM. */
        public long errorCode() {
            int at = type == GOAWAY ? 4 : 0;
            return ((payload[at] & 0xffL) << 24) | ((payload[at + 1] & 0xff) << 16) | ((payload[at + 2] & 0xff) << 8)
                    | (payload[at + 3] & 0xff);
        }
    }

    private final Socket socket;
    private final OutputStream out;
    private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    private final DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();
    private final DefaultHttp2HeadersDecoder hpackIn = new DefaultHttp2HeadersDecoder(false);
    private volatile boolean serverSettingsSeen;
    private volatile boolean closed;
    private final boolean ackSettings;

    private RawH2(int port, boolean ackSettings) throws IOException {
        this.ackSettings = ackSettings;
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        Thread reader = new Thread(this::read, "raw-h2-reader");
        reader.setDaemon(true);
        reader.start();
        ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
        byte[] p = new byte[preface.readableBytes()];
        preface.readBytes(p);
        preface.release();
        synchronized (this) { // the reader's ACK of the server's SETTINGS must not come before ours
            out.write(p);
            frame(SETTINGS, 0, 0, new byte[0]);
        }
    }

    /** Connects with prior knowledge, and waits until the server's SETTINGS are acknowledged. */
    public static RawH2 connect(int port) throws Exception {
        return connect(port, true);
    }

    /** @param ackSettings false: never acknowledge the server's SETTINGS (a client dodging its limits) */
    public static RawH2 connect(int port, boolean ackSettings) throws Exception {
        RawH2 c = new RawH2(port, ackSettings);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.serverSettingsSeen && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return c;
    }

    private void read() {
        try (DataInputStream in = new DataInputStream(socket.getInputStream())) {
            while (true) {
                int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int stream = in.readInt() & 0x7fffffff;
                byte[] payload = new byte[length];
                in.readFully(payload);
                if (type == SETTINGS && (flags & ACK) == 0) {
                    try {
                        if (ackSettings) {
                            frame(SETTINGS, ACK, 0, new byte[0]);
                        }
                    } catch (IOException ignored) {
                        // the server is closing: the queue will say so
                    }
                    serverSettingsSeen = true;
                }
                frames.add(new Frame(type, flags, stream, payload));
            }
        } catch (EOFException e) {
            // the server closed
        } catch (IOException e) {
            // reset by the server
        } finally {
            closed = true;
            frames.add(new Frame(-1, 0, 0, new byte[0]));
        }
    }

    /** Writes one frame; false when the server has closed the connection (the attack is over). */
    public synchronized boolean frame(int type, int flags, int streamId, byte[] payload) throws IOException {
        byte[] header = {
            (byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
            (byte) type, (byte) flags,
            (byte) (streamId >>> 24), (byte) (streamId >>> 16), (byte) (streamId >>> 8), (byte) streamId};
        try {
            out.write(header);
            out.write(payload);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** An HPACK-encoded header block (the encoder's table is this connection's). */
    public byte[] encode(int streamId, Http2Headers headers) throws Http2Exception {
        ByteBuf buf = Unpooled.buffer();
        try {
            hpack.encodeHeaders(streamId, headers, buf);
            byte[] b = new byte[buf.readableBytes()];
            buf.readBytes(b);
            return b;
        } finally {
            buf.release();
        }
    }

    public boolean headers(int streamId, Http2Headers headers, boolean endStream) throws Exception {
        return frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId, encode(streamId, headers));
    }

    public boolean rst(int streamId, int errorCode) throws IOException {
        return frame(RST_STREAM, 0, streamId, new byte[] {
            (byte) (errorCode >>> 24), (byte) (errorCode >>> 16), (byte) (errorCode >>> 8), (byte) errorCode});
    }

    public boolean ping(long data) throws IOException {
        byte[] p = new byte[8];
        for (int i = 0; i < 8; i++) {
            p[i] = (byte) (data >>> (56 - 8 * i));
        }
        return frame(PING, 0, 0, p);
    }

    /** Decodes the header block of a HEADERS frame from the server. */
    public Http2Headers decode(Frame headers) throws Http2Exception {
        ByteBuf buf = Unpooled.wrappedBuffer(headers.payload());
        try {
            return hpackIn.decodeHeaders(headers.streamId(), buf);
        } finally {
            buf.release();
        }
    }

    /** The next frame of {@code type} (on {@code streamId}, or any stream if -1), or null if none came in time. */
    public Frame await(int type, int streamId, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Frame f = left <= 0 ? null : frames.poll(left, TimeUnit.NANOSECONDS);
            if (f == null) {
                return null;
            }
            if (f.type() == -1) {
                frames.add(f); // stays the last word for later waits
                return null;
            }
            if (f.type() == type && (streamId < 0 || f.streamId() == streamId)) {
                return f;
            }
        }
    }

    /** Whether the server closed the connection within {@code within}. */
    public boolean closedWithin(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!closed && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return closed;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
