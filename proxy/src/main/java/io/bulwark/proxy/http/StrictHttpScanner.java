package io.bulwark.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Checks the raw downstream byte stream against RFC 9112 before Netty's HTTP decoder sees it.
 * Sits in the listener pipeline as {@code "strict-http"}, between the request-start detector and
 * the {@code "codec"}, and is removed with the codec when a connection becomes a tunnel.
 *
 * <p>Netty's decoder is lenient where leniency lets a request be framed one way here and another
 * way by the upstream (request smuggling): it joins obs-fold lines, reports some framing errors
 * only on a later body part, and gives a GET with hixie-76 keys an implicit body. This handler runs
 * its own small parser ({@link StrictRequestParser}) over every byte, tracking Content-Length and
 * chunked framing itself to find where each request ends, and refuses the first thing that is
 * malformed or ambiguous.
 *
 * <p>Valid bytes pass on unchanged and uncopied: the same buffer, or a retained slice of its valid
 * prefix when a violation sits inside it. At the first violation the handler forwards that prefix,
 * drops the rest and everything after, and fires one {@link HttpViolation} user event; the
 * {@code FrontendHandler} answers it and closes the connection.
 *
 * <p>Forwarding the prefix is safe: a violation in a request head leaves that head without its
 * final CRLF CRLF, so the decoder cannot produce a request from it. Every LF in the prefix was
 * accepted by the parser as the end of a well-formed line, Netty ends lines and the head only at an
 * LF, so any head the decoder could complete from the prefix the parser has completed and validated
 * too — the violation then lies in a later part (a body, or a pipelined request).
 */
public final class StrictHttpScanner extends ChannelInboundHandlerAdapter {

    private final StrictRequestParser parser = new StrictRequestParser();
    private boolean refused;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (refused) {
            buf.release(); // the connection is closing; nothing after a violation is read
            return;
        }
        int start = buf.readerIndex();
        int bad = parser.scan(buf, start, buf.writerIndex());
        if (bad < 0) {
            ctx.fireChannelRead(buf);
            return;
        }
        refused = true;
        ByteBuf valid = bad > start ? buf.retainedSlice(start, bad - start) : null;
        buf.release();
        if (valid != null) {
            ctx.fireChannelRead(valid);
        }
        ctx.fireUserEventTriggered(parser.violation());
    }

    /** True once a violation has been reported (for tests). */
    boolean refused() {
        return refused;
    }

    /** Requests that passed completely (for tests). */
    long messagesCompleted() {
        return parser.messagesCompleted();
    }

    /** True when everything scanned so far forms complete requests (for tests). */
    boolean betweenMessages() {
        return !refused && parser.betweenMessages();
    }
}
