package io.bulwark.proxy.demo;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * What a demo upstream does with one request: answer {@code status} with the JSON {@code body}
 * after {@code delayMillis}, or reset the connection without answering.
 */
record DemoReply(HttpResponseStatus status, String body, long delayMillis, boolean reset) {

    /** Close the connection abruptly (TCP RST) instead of answering. */
    static final DemoReply RESET = new DemoReply(HttpResponseStatus.OK, "", 0, true);

    static DemoReply now(HttpResponseStatus status, String body) {
        return new DemoReply(status, body, 0, false);
    }

    static DemoReply after(HttpResponseStatus status, String body, long delayMillis) {
        return new DemoReply(status, body, delayMillis, false);
    }
}
