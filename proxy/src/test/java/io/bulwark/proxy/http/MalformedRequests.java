package io.bulwark.proxy.http;

import java.util.List;

/**
 * Requests the strict scanner must refuse, each with the status it answers and where the
 * violation sits. Shared by the handler test ({@link StrictHttpScannerTest}) and the raw-socket
 * suite through the real proxy ({@link SmugglingTest}). Several carry a smuggled
 * {@code GET /admin} that must never reach an upstream.
 */
final class MalformedRequests {

    /** Where the first violation is. */
    enum Where {
        /** In the head of the first request: nothing may be forwarded at all. */
        HEAD,
        /** In the body of a request whose head was valid: the head may be forwarded, never the whole body. */
        BODY,
        /** In a pipelined request after a valid one: the first may be forwarded, the second never. */
        LATER_REQUEST
    }

    record Case(String name, String raw, int status, Where where) {
        @Override
        public String toString() {
            return name;
        }

        String code() {
            return "bad_request";
        }
    }

    private static final String HOST = "Host: x\r\n";
    private static final String SMUGGLED = "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n";

    private MalformedRequests() {
    }

    private static Case head(String name, String raw, int status) {
        return new Case(name, raw, status, Where.HEAD);
    }

    private static Case head(String name, String raw) {
        return head(name, raw, 400);
    }

    /** A POST with {@code headers} (after Host) and nothing else. */
    private static Case post(String name, String headers, String body, int status) {
        return head(name, "POST / HTTP/1.1\r\n" + HOST + headers + "\r\n" + body, status);
    }

    private static Case get(String name, String headers) {
        return head(name, "GET / HTTP/1.1\r\n" + HOST + headers + "\r\n");
    }

    /** A chunked POST whose head is fine and whose body is {@code body}. */
    private static Case chunked(String name, String body) {
        return new Case(name, "POST / HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\n\r\n" + body, 400,
                Where.BODY);
    }

    static List<Case> all() {
        return List.of(
                // Framing: Content-Length and Transfer-Encoding
                post("content-length with transfer-encoding",
                        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n", 400),
                post("transfer-encoding with content-length",
                        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "5\r\nhello\r\n0\r\n\r\n", 400),
                post("conflicting content-lengths", "Content-Length: 5\r\nContent-Length: 6\r\n", "hello!", 400),
                post("identical duplicate content-lengths", "Content-Length: 5\r\nContent-Length: 5\r\n", "hello",
                        400),
                post("content-length list", "Content-Length: 5, 5\r\n", "hello", 400),
                post("content-length with plus sign", "Content-Length: +5\r\n", "hello", 400),
                post("content-length in hex", "Content-Length: 0x10\r\n", "0123456789abcdef", 400),
                post("negative content-length", "Content-Length: -1\r\n", "", 400),
                post("content-length overflow", "Content-Length: 99999999999999999999\r\n", "", 400),
                post("content-length with inner space", "Content-Length: 1 0\r\n", "0123456789", 400),
                post("empty content-length", "Content-Length: \r\n", "", 400),
                post("chunked twice in one field", "Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n", 400),
                post("gzip then chunked", "Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n", 400),
                post("gzip alone", "Transfer-Encoding: gzip\r\n", "", 400),
                post("unknown transfer coding", "Transfer-Encoding: foo\r\n", "", 400),
                post("xchunked", "Transfer-Encoding: xchunked\r\n", "0\r\n\r\n", 400),
                post("chunked with trailing garbage", "Transfer-Encoding: chunked x\r\n", "0\r\n\r\n", 400),
                post("chunked with a parameter", "Transfer-Encoding: chunked;q=1\r\n", "0\r\n\r\n", 400),
                post("two transfer-encoding fields", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                        "0\r\n\r\n", 400),
                post("transfer-encoding behind a vertical tab", "Transfer-Encoding: \u000bchunked\r\n", "0\r\n\r\n",
                        400),
                head("chunked on HTTP/1.0",
                        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
                // Field syntax
                post("whitespace before the colon of content-length", "Content-Length : 5\r\n", "hello", 400),
                get("whitespace before a colon", "X-A : b\r\n"),
                post("tab before the colon of transfer-encoding", "Transfer-Encoding\t: chunked\r\n", "0\r\n\r\n",
                        400),
                get("obs-fold", "X-A: b\r\n c\r\n"),
                post("obs-folded transfer-encoding", "Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n", 400),
                head("whitespace before the first field", "GET / HTTP/1.1\r\n Host: x\r\n\r\n"),
                get("bare CR in a value", "X-A: b\rc\r\n"),
                head("bare LF ending a field line", "GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"),
                get("NUL in a value", "X-A: b\u0000c\r\n"),
                get("0x01 in a value", "X-A: b\u0001c\r\n"),
                get("DEL in a value", "X-A: b\u007fc\r\n"),
                get("NUL in a name", "X\u0000A: b\r\n"),
                get("DEL in a name", "X\u007fA: b\r\n"),
                get("CR in a name", "X\rA: b\r\n"),
                get("LF in a name", "X\nA: b\r\n"),
                get("empty field name", ": b\r\n"),
                get("field line without a colon", "X-A b\r\n"),
                head("missing Host on HTTP/1.1", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n"),
                get("two Host fields", "Host: y\r\n"),
                head("two Host fields on HTTP/1.0", "GET / HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n"),
                // Request line
                head("method with @", "G@T / HTTP/1.1\r\n" + HOST + "\r\n"),
                head("empty method", " / HTTP/1.1\r\n" + HOST + "\r\n"),
                head("HTTP/2.0", "GET / HTTP/2.0\r\n" + HOST + "\r\n", 400),
                head("HTTP/1.2", "GET / HTTP/1.2\r\n" + HOST + "\r\n", 400),
                head("HTTP/1.1x", "GET / HTTP/1.1x\r\n" + HOST + "\r\n"),
                head("lower-case http/1.1", "GET / http/1.1\r\n" + HOST + "\r\n"),
                head("space in the target", "GET /a b HTTP/1.1\r\n" + HOST + "\r\n"),
                head("control character in the target", "GET /a\u0001b HTTP/1.1\r\n" + HOST + "\r\n"),
                head("two spaces after the method", "GET  / HTTP/1.1\r\n" + HOST + "\r\n"),
                head("tab after the method", "GET\t/ HTTP/1.1\r\n" + HOST + "\r\n"),
                head("CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 400),
                head("authority-form without CONNECT", "GET example.com:80 HTTP/1.1\r\n" + HOST + "\r\n"),
                head("asterisk-form without OPTIONS", "GET * HTTP/1.1\r\n" + HOST + "\r\n"),
                head("HTTP/0.9 request line", "GET /\r\n\r\n"),
                head("bare LF line endings", "GET / HTTP/1.1\nHost: x\n\n"),
                head("too many empty lines before the request", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" + HOST + "\r\n"),
                // Classic smuggling payloads, each carrying a GET /admin
                post("CL.TE smuggling", "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + SMUGGLED,
                        400),
                post("TE.CL smuggling", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                        "22\r\n" + SMUGGLED + "\r\n0\r\n\r\n", 400),
                post("TE.TE smuggling with an obfuscated second coding",
                        "Transfer-Encoding: chunked\r\nTransfer-encoding: cow\r\nContent-Length: 4\r\n",
                        "5c\r\n" + SMUGGLED + "0\r\n\r\n", 400),
                head("hixie-76 keys give Netty an implicit 8-byte body",
                        "GET / HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key1: 1\r\nSec-WebSocket-Key2: 2\r\n\r\n" + SMUGGLED),
                // Chunked bodies
                chunked("non-hex chunk size", "zz\r\nhello\r\n0\r\n\r\n"),
                chunked("17 hex digits of chunk size", "00000000000000005\r\nhello\r\n0\r\n\r\n"),
                chunked("negative chunk size", "-5\r\nhello\r\n0\r\n\r\n"),
                chunked("empty chunk size", "\r\nhello\r\n0\r\n\r\n"),
                chunked("chunk size with 0x", "0x5\r\nhello\r\n0\r\n\r\n"),
                chunked("space after the chunk size", "5 \r\nhello\r\n0\r\n\r\n"),
                chunked("chunk data not followed by CRLF", "5\r\nhelloXX\r\n0\r\n\r\n"),
                chunked("chunk data running into the next size", "3\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
                chunked("bare LF after the chunk size", "5\nhello\r\n0\r\n\r\n"),
                chunked("bare LF after the chunk data", "5\r\nhello\n0\r\n\r\n"),
                chunked("bare LF after the last chunk", "0\n\r\n" + SMUGGLED),
                chunked("chunk extension over the line limit", "5;a=" + "b".repeat(5000) + "\r\nhello\r\n0\r\n\r\n"),
                chunked("bare LF inside a quoted chunk extension", "5;a=\"x\nGET /admin\"\r\nhello\r\n0\r\n\r\n"),
                chunked("obs-fold in a trailer", "5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n"),
                chunked("NUL in a trailer", "5\r\nhello\r\n0\r\nX-T: a\u0000\r\n\r\n"),
                // A valid request, then a refused one in the same packet
                new Case("valid request then a smuggled one with NUL", "GET /ok HTTP/1.1\r\n" + HOST + "\r\n"
                        + "GET /admin HTTP/1.1\r\n" + HOST + "X-A: \u0000\r\n\r\n", 400, Where.LATER_REQUEST),
                new Case("valid request then obs-folded content-length", "GET /ok HTTP/1.1\r\n" + HOST + "\r\n"
                        + "POST /admin HTTP/1.1\r\n" + HOST + "Content-Length:\r\n 5\r\n\r\nhello", 400,
                        Where.LATER_REQUEST));
    }
}
