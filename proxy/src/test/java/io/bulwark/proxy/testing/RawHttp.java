package io.bulwark.proxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A raw-socket HTTP/1 client for tests that need exact bytes on the wire: malformed requests,
 * pipelining, keep-alive and connection-close checks.
 */
public final class RawHttp implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawHttp(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    public RawHttp send(String raw) throws IOException {
        out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return this;
    }

    /**
     * A parsed response: status line, headers as one lower-cased block, and body.
     *
     * @param trailers the trailer section of a chunked body ("" when none)
     */
    public record Response(int status, String head, String body, String trailers) {
        public Response(int status, String head, String body) {
            this(status, head, body, "");
        }

        public String header(String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    /** Reads one response (Content-Length or chunked body; or until close). */
    public Response read() throws IOException {
        String head = readHead();
        if (head == null) {
            return null;
        }
        int status = Integer.parseInt(head.substring(9, 12));
        Response r = new Response(status, head, "");
        String length = r.header("content-length");
        String te = r.header("transfer-encoding");
        byte[] body;
        trailerLines = new StringBuilder();
        if (status == 101 || status == 204 || status == 304 || (status >= 100 && status < 200)) {
            body = new byte[0];
        } else if (length != null) {
            body = in.readNBytes(Integer.parseInt(length));
        } else if (te != null && te.equalsIgnoreCase("chunked")) {
            body = readChunked();
        } else {
            body = in.readAllBytes();
        }
        return new Response(status, head, new String(body, StandardCharsets.ISO_8859_1), trailerLines.toString());
    }

    private StringBuilder trailerLines = new StringBuilder();

    private String readHead() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                return buf.size() == 0 ? null : buf.toString(StandardCharsets.ISO_8859_1);
            }
            buf.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                    ? state + 1 : (b == '\r' ? 1 : 0);
        }
        return buf.toString(StandardCharsets.ISO_8859_1);
    }

    private byte[] readChunked() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine();
            int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
            if (size == 0) {
                String trailer;
                while (!(trailer = readLine()).isEmpty()) {
                    trailerLines.append(trailer).append("\r\n");
                }
                return body.toByteArray();
            }
            body.write(in.readNBytes(size));
            readLine();
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** True if the server closed the connection (read returns EOF within the timeout). */
    public boolean closedByPeer(int timeoutMillis) throws IOException {
        int old = socket.getSoTimeout();
        socket.setSoTimeout(timeoutMillis);
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset counts as closed
        } finally {
            socket.setSoTimeout(old);
        }
    }

    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
