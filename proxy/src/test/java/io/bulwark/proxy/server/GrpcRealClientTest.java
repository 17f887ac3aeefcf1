package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue #17 with a real grpc-java client (h2c to Bulwark) and real grpc-java servers behind a
 * {@code protocol = http2} cluster: {@code retry-on = [ unavailable ]} moves a trailers-only
 * UNAVAILABLE to the other server (and without it the client sees the server's UNAVAILABLE); a
 * server-streaming call that fails after its first messages is never retried; and Bulwark's own
 * gRPC errors (no route, every upstream drained, rate limited, timeouts) as the client's
 * {@link Status} with Bulwark's message and {@code x-bulwark-error} in the metadata.
 */
class GrpcRealClientTest {

    private static final Metadata.Key<String> CASE = Metadata.Key.of("x-case", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> ATTEMPT =
            Metadata.Key.of("x-bulwark-attempt", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> BULWARK_ERROR =
            Metadata.Key.of("x-bulwark-error", Metadata.ASCII_STRING_MARSHALLER);
    private static final String BAD_DESCRIPTION = "the bad server says no";

    private final List<Backend> backends = new ArrayList<>();
    private Backend bad;
    private Backend good;
    private ProxyHarness proxy;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        bad = backend(false);
        good = backend(true);
        // Routes are chosen by a header the client attaches (x-case): the gRPC method path is fixed.
        proxy = ProxyHarness.start("""
                clusters {
                  mixed {
                    endpoints = [ "127.0.0.1:%d", "127.0.0.1:%d" ], protocol = http2, load-balancer = round-robin
                    outlier-detection { consecutive-gateway-failure = 1000, consecutive-5xx = 1000 }
                  }
                  good { endpoints = [ "127.0.0.1:%d" ], protocol = http2 }
                  drained { endpoints = [ "127.0.0.1:%d" ], protocol = http2 }
                  bad {
                    endpoints = [ "127.0.0.1:%d" ], protocol = http2
                    outlier-detection { consecutive-gateway-failure = 1000, consecutive-5xx = 1000 }
                  }
                }
                routes = [
                  { name = retry, match { headers { x-case = retry } }, cluster = mixed,
                    retry { max-retries = 2, retry-on = [ unavailable ] } }
                  { name = allbad, match { headers { x-case = allbad } }, cluster = bad,
                    retry { max-retries = 2, retry-on = [ unavailable ] } }
                  { name = noretry, match { headers { x-case = noretry } }, cluster = mixed }
                  { name = drained, match { headers { x-case = drained } }, cluster = drained }
                  { name = limited, match { headers { x-case = limited } }, cluster = good,
                    rate-limit { requests-per-second = 0.01, burst = 1 } }
                  { name = patient, match { headers { x-case = patient } }, cluster = good, timeout = 60s }
                  { name = hasty, match { headers { x-case = hasty } }, cluster = good, timeout = 1s }
                ]
                """.formatted(bad.port(), good.port(), good.port(), good.port(), bad.port()));
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", proxy.port()).usePlaintext().build();
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (proxy != null) {
            proxy.close();
        }
        for (Backend b : backends) {
            b.server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void unavailableIsRetriedOnTheOtherServerAndEveryCallSucceeds() throws Exception {
        int n = 10;
        for (int i = 0; i < n; i++) {
            SimpleResponse r = unary("retry", 20_000).unaryRpc(req("call" + i));
            assertThat(r.getResponseMessage()).as("call %d", i).isEqualTo("good:call" + i);
        }
        assertThat(bad.calls.get()).as("round robin sent first tries to the UNAVAILABLE server").isPositive();
        assertThat(good.calls.get()).isEqualTo(n);
        // each retry is a second try on the good server, which sees it in x-bulwark-attempt
        assertThat(good.attempts.stream().filter("2"::equals).count()).isEqualTo(bad.calls.get());
        assertThat(good.attempts).containsOnly("1", "2");
        assertThat(retries("unavailable", "retry")).isEqualTo(bad.calls.get());
    }

    @Test
    void whenEveryTryIsUnavailableTheLastAnswerReachesTheClient() throws Exception {
        assertThatThrownBy(() -> unary("allbad", 20_000).unaryRpc(req("x")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).isEqualTo(BAD_DESCRIPTION);
                    assertThat(e.getTrailers().get(BULWARK_ERROR)).as("the server's answer, not Bulwark's").isNull();
                });
        assertThat(bad.calls.get()).as("the first try and max-retries = 2").isEqualTo(3);
        assertThat(bad.attempts).containsExactly("1", "2", "3");
        assertThat(retries("unavailable", "allbad")).isEqualTo(2);
    }

    @Test
    void aRequestLargerThanTheReplayBufferIsNotRetriedAndTheClientSeesUnavailable() throws Exception {
        // Also a regression test: uploads paused and resumed by the upstream's back-pressure used to stall now
        // and then (Bulwark wrote the client's WINDOW_UPDATE without flushing it), about one 200KiB call in 20.
        String big = "x".repeat(200 * 1024); // more than retry.buffer-limit (64KiB)
        int calls = 8;
        int unavailable = 0;
        for (int i = 0; i < calls; i++) {
            try {
                assertThat(unary("retry", 10_000).unaryRpc(req(big)).getResponseMessage()).isEqualTo("good:" + big);
            } catch (StatusRuntimeException e) {
                unavailable++;
                assertThat(e.getStatus().getCode()).as("call %d: %s", i, e.getStatus()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(e.getStatus().getDescription()).isEqualTo(BAD_DESCRIPTION);
            }
        }
        assertThat(unavailable).as("round robin reached the bad server").isPositive();
        assertThat(bad.calls.get()).isEqualTo(unavailable);
        assertThat(bad.calls.get() + good.calls.get()).as("one try per call: the body could not be replayed")
                .isEqualTo(calls);
        assertThat(retries("unavailable", "retry")).isZero();
        // small calls still succeed (retried when they meet the bad server)
        for (int i = 0; i < 2; i++) {
            assertThat(unary("retry", 10_000).unaryRpc(req("small" + i)).getResponseMessage()).isEqualTo("good:small" + i);
        }
    }

    @Test
    void withoutRetryOnUnavailableTheClientSeesTheServersUnavailable() throws Exception {
        int unavailable = 0;
        for (int i = 0; i < 4; i++) {
            try {
                assertThat(unary("noretry", 20_000).unaryRpc(req("call" + i)).getResponseMessage())
                        .isEqualTo("good:call" + i);
            } catch (StatusRuntimeException e) {
                unavailable++;
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(e.getStatus().getDescription()).isEqualTo(BAD_DESCRIPTION);
                assertThat(e.getTrailers().get(BULWARK_ERROR)).as("the server's own answer, passed through").isNull();
            }
        }
        assertThat(unavailable).as("round robin reached the bad server").isPositive();
        assertThat(bad.calls.get()).isEqualTo(unavailable);
        assertThat(bad.calls.get() + good.calls.get()).as("one try per call").isEqualTo(4);
        assertThat(retries("unavailable", "noretry")).isZero();
    }

    @Test
    void aServerStreamThatFailsAfterItsFirstMessagesIsNotRetried() throws Exception {
        int failed = 0;
        for (int i = 0; i < 4; i++) {
            List<String> got = new ArrayList<>();
            Iterator<SimpleResponse> it = SimpleServiceGrpc.newBlockingStub(channel(("retry")))
                    .withDeadlineAfter(20, TimeUnit.SECONDS).serverStreamingRpc(req("3"));
            try {
                while (it.hasNext()) {
                    got.add(it.next().getResponseMessage());
                }
                assertThat(got).containsExactly("good:0", "good:1", "good:2");
            } catch (StatusRuntimeException e) {
                failed++;
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(e.getStatus().getDescription()).isEqualTo(BAD_DESCRIPTION);
                assertThat(got).as("the messages before the status").containsExactly("bad:0", "bad:1", "bad:2");
            }
        }
        assertThat(failed).as("round robin reached the bad server").isPositive();
        assertThat(bad.calls.get()).isEqualTo(failed);
        assertThat(bad.calls.get() + good.calls.get()).as("one try per call: nothing retried").isEqualTo(4);
        assertThat(good.attempts).containsOnly("1");
        assertThat(retries("unavailable", "retry")).isZero();
    }

    @Test
    void noRouteIsUnimplemented() {
        assertBulwarkError(() -> unary("nowhere", 20_000).unaryRpc(req("x")), Status.Code.UNIMPLEMENTED,
                "no route for POST /grpc.testing.SimpleService/UnaryRpc", "no_route");
        assertThat(bad.calls.get() + good.calls.get()).isZero();
    }

    @Test
    void everyUpstreamDrainedIsUnavailable() throws Exception {
        String path = "/api/v1/clusters/drained/upstreams/127.0.0.1:" + good.port() + "/drain";
        assertThat(proxy.admin("POST", path, null).statusCode()).as("the last eligible upstream needs force")
                .isEqualTo(409);
        assertThat(proxy.admin("POST", path + "?force=true", null).statusCode()).isEqualTo(202);

        assertBulwarkError(() -> unary("drained", 20_000).unaryRpc(req("x")), Status.Code.UNAVAILABLE,
                "no healthy upstream in cluster drained", "no_healthy_upstream");
        assertThat(good.calls.get()).isZero();

        HttpResponse<String> restored = proxy.admin("POST",
                "/api/v1/clusters/drained/upstreams/127.0.0.1:" + good.port() + "/restore", null);
        assertThat(restored.statusCode()).isEqualTo(200);
        assertThat(unary("drained", 20_000).unaryRpc(req("back")).getResponseMessage()).isEqualTo("good:back");
    }

    @Test
    void overTheRateLimitIsResourceExhausted() {
        assertThat(unary("limited", 20_000).unaryRpc(req("first")).getResponseMessage()).isEqualTo("good:first");
        assertBulwarkError(() -> unary("limited", 20_000).unaryRpc(req("second")), Status.Code.RESOURCE_EXHAUSTED,
                "rate limit of route limited exceeded", "rate_limited");
        assertThat(good.calls.get()).isEqualTo(1);
    }

    @Test
    void aRouteTimeoutShorterThanTheClientsDeadlineIsDeadlineExceededFromBulwark() throws Exception {
        long start = System.nanoTime();
        assertBulwarkError(() -> unary("hasty", 30_000).unaryRpc(req("slow")), Status.Code.DEADLINE_EXCEEDED,
                "no response within the route timeout of 1000ms", "upstream_timeout");
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(millis).as("the 1s route timeout, not the 30s deadline").isBetween(900L, 15_000L);
        assertThat(good.cancelled.get(20, TimeUnit.SECONDS)).as("the upstream stream was reset").isTrue();
    }

    @Test
    void aClientDeadlineShorterThanTheRouteTimeoutIsDeadlineExceededNearTheDeadline() throws Exception {
        long start = System.nanoTime();
        assertThatThrownBy(() -> unary("patient", 1_000).unaryRpc(req("slow")))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(millis).as("the 1s deadline, not the 60s route timeout").isBetween(900L, 15_000L);
        assertThat(good.cancelled.get(20, TimeUnit.SECONDS)).as("the upstream stream was reset").isTrue();
        // the server saw the client's deadline as grpc-java sent it, through Bulwark
        assertThat(good.timeouts).hasSize(1);
        assertThat(good.timeouts.get(0)).matches("[0-9]{1,8}[HMSmun]");
    }

    // --- helpers

    private interface Call {
        Object run();
    }

    /** A gRPC error Bulwark made itself, as the grpc-java client sees it. */
    private static void assertBulwarkError(Call call, Status.Code code, String description, String error) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).isEqualTo(description);
            // a trailers-only response: its headers are the call's trailers
            assertThat(e.getTrailers()).isNotNull();
            assertThat(e.getTrailers().get(BULWARK_ERROR)).isEqualTo(error);
        });
    }

    private Channel channel(String caseName) {
        Metadata extra = new Metadata();
        extra.put(CASE, caseName);
        return io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(extra));
    }

    private SimpleServiceGrpc.SimpleServiceBlockingStub unary(String caseName, long deadlineMillis) {
        return SimpleServiceGrpc.newBlockingStub(channel(caseName)).withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
    }

    /** bulwark_retries_total for the reason and route, 0 when the series is not there. */
    private long retries(String reason, String route) throws Exception {
        String metrics = proxy.admin("/metrics").body();
        Matcher m = Pattern.compile("bulwark_retries_total\\{reason=\"" + reason + "\",route=\"" + route
                + "\"} ([0-9.eE+]+)").matcher(metrics);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }

    private static SimpleRequest req(String message) {
        return SimpleRequest.newBuilder().setRequestMessage(message).build();
    }

    private static SimpleResponse resp(String message) {
        return SimpleResponse.newBuilder().setResponseMessage(message).build();
    }

    /** A grpc-java server that answers everything OK ({@code good}) or UNAVAILABLE, counting what it sees. */
    private Backend backend(boolean ok) throws Exception {
        Backend b = new Backend(ok);
        ServerInterceptor seen = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                               ServerCallHandler<Q, R> next) {
                b.calls.incrementAndGet();
                b.attempts.add(String.valueOf(headers.get(ATTEMPT)));
                String timeout = headers.get(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER));
                if (timeout != null && "patient".equals(headers.get(CASE))) {
                    b.timeouts.add(timeout);
                }
                return next.startCall(call, headers);
            }
        };
        b.server = ServerBuilder.forPort(0).addService(ServerInterceptors.intercept(b.service(), seen)).build().start();
        backends.add(b);
        return b;
    }

    private static final class Backend {
        final boolean ok;
        final String name;
        final AtomicInteger calls = new AtomicInteger();
        final List<String> attempts = new CopyOnWriteArrayList<>();
        final List<String> timeouts = new CopyOnWriteArrayList<>();
        final CompletableFuture<Boolean> cancelled = new CompletableFuture<>();
        Server server;

        Backend(boolean ok) {
            this.ok = ok;
            this.name = ok ? "good" : "bad";
        }

        int port() {
            return server.getPort();
        }

        SimpleServiceGrpc.SimpleServiceImplBase service() {
            return new SimpleServiceGrpc.SimpleServiceImplBase() {
                @Override
                public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
                    if (!ok) {
                        // nothing sent before the status: a trailers-only response
                        out.onError(Status.UNAVAILABLE.withDescription(BAD_DESCRIPTION).asRuntimeException());
                    } else if ("slow".equals(request.getRequestMessage())) {
                        // no answer; held until the call is cancelled
                        ((ServerCallStreamObserver<SimpleResponse>) out).setOnCancelHandler(() -> cancelled.complete(true));
                    } else {
                        out.onNext(resp(name + ":" + request.getRequestMessage()));
                        out.onCompleted();
                    }
                }

                @Override
                public void serverStreamingRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
                    int n = Integer.parseInt(request.getRequestMessage());
                    for (int i = 0; i < n; i++) {
                        out.onNext(resp(name + ":" + i));
                    }
                    if (ok) {
                        out.onCompleted();
                    } else {
                        out.onError(Status.UNAVAILABLE.withDescription(BAD_DESCRIPTION).asRuntimeException());
                    }
                }
            };
        }
    }
}
