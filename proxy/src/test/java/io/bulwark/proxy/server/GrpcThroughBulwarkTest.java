package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.ProxyHarness;
import io.grpc.ForwardingServerCall;
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

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A real grpc-java client and server (h2c both sides) with Bulwark between them, the cluster on
 * {@code protocol = http2}: unary calls, client, server and bidirectional streaming, an error
 * status (a trailers-only response), custom trailers end to end, and a deadline whose cancellation
 * reaches the server.
 */
class GrpcThroughBulwarkTest {

    private static final Metadata.Key<String> TRAILER = Metadata.Key.of("x-trailer", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> ATTEMPT =
            Metadata.Key.of("x-bulwark-attempt", Metadata.ASCII_STRING_MARSHALLER);

    private Server server;
    private ProxyHarness proxy;
    private ManagedChannel channel;
    private final CompletableFuture<Boolean> slowCallCancelled = new CompletableFuture<>();
    private final AtomicReference<Metadata> serverSawHeaders = new AtomicReference<>();

    @BeforeEach
    void start() throws Exception {
        ServerInterceptor trailers = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                               ServerCallHandler<Q, R> next) {
                serverSawHeaders.set(headers);
                return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void close(Status status, Metadata trailers) {
                        trailers.put(TRAILER, "done");
                        super.close(status, trailers);
                    }
                }, headers);
            }
        };
        server = ServerBuilder.forPort(0)
                .addService(ServerInterceptors.intercept(new Service(), trailers))
                .build().start();
        proxy = ProxyHarness.start("""
                clusters { grpc { endpoints = [ "127.0.0.1:%d" ], protocol = http2 } }
                routes = [ { match { path-prefix = "/" }, cluster = grpc } ]
                """.formatted(server.getPort()));
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
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static SimpleRequest req(String message) {
        return SimpleRequest.newBuilder().setRequestMessage(message).build();
    }

    private static SimpleResponse resp(String message) {
        return SimpleResponse.newBuilder().setResponseMessage(message).build();
    }

    @Test
    void aUnaryCallWithItsTrailersEndToEnd() {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        SimpleResponse r = SimpleServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
                .withDeadlineAfter(20, TimeUnit.SECONDS)
                .unaryRpc(req("hello"));

        assertThat(r.getResponseMessage()).isEqualTo("unary:hello");
        assertThat(trailers.get().get(TRAILER)).isEqualTo("done");
        assertThat(headers.get().get(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER))).isNotBlank();
        // what the server got: te: trailers (grpc-java refuses a call without it) and the try number
        assertThat(serverSawHeaders.get().get(ATTEMPT)).isEqualTo("1");
    }

    @Test
    void anErrorStatusArrivesAsATrailersOnlyResponse() {
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        assertThatThrownBy(() -> SimpleServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(new AtomicReference<>(), trailers))
                .withDeadlineAfter(20, TimeUnit.SECONDS)
                .unaryRpc(req("fail")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("no such thing");
                });
        assertThat(trailers.get().get(TRAILER)).isEqualTo("done");
    }

    @Test
    void clientStreaming() throws Exception {
        CompletableFuture<SimpleResponse> result = new CompletableFuture<>();
        StreamObserver<SimpleRequest> requests = SimpleServiceGrpc.newStub(channel)
                .withDeadlineAfter(20, TimeUnit.SECONDS).clientStreamingRpc(observer(result, new ArrayList<>()));
        for (int i = 0; i < 50; i++) {
            requests.onNext(req("m" + i + ","));
        }
        requests.onCompleted();
        String all = result.get(20, TimeUnit.SECONDS).getResponseMessage();
        assertThat(all).startsWith("m0,m1,").endsWith("m49,").hasSize(50 * 3 + 40);
    }

    @Test
    void serverStreamingOfMoreThanTheFlowControlWindows() {
        // 200 messages of 32KiB: far more than the stream and connection windows on either side
        Iterator<SimpleResponse> it = SimpleServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(60, TimeUnit.SECONDS).serverStreamingRpc(req("200"));
        int n = 0;
        long bytes = 0;
        while (it.hasNext()) {
            SimpleResponse r = it.next();
            assertThat(r.getResponseMessage()).startsWith(n + ":");
            bytes += r.getResponseMessage().length();
            n++;
        }
        assertThat(n).isEqualTo(200);
        assertThat(bytes).isGreaterThan(200L * 32 * 1024);
    }

    @Test
    void bidirectionalStreamingMessageByMessage() throws Exception {
        LinkedBlockingQueue<SimpleResponse> replies = new LinkedBlockingQueue<>();
        CompletableFuture<SimpleResponse> done = new CompletableFuture<>();
        StreamObserver<SimpleRequest> requests = SimpleServiceGrpc.newStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).bidiStreamingRpc(new StreamObserver<>() {
                    @Override
                    public void onNext(SimpleResponse value) {
                        replies.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        // each reply must come back before the next message is sent: nothing is held back on the way
        for (int i = 0; i < 5; i++) {
            requests.onNext(req("ping" + i));
            SimpleResponse reply = replies.poll(20, TimeUnit.SECONDS);
            assertThat(reply).isNotNull();
            assertThat(reply.getResponseMessage()).isEqualTo("pong:ping" + i);
        }
        requests.onCompleted();
        done.get(20, TimeUnit.SECONDS);
    }

    @Test
    void aDeadlineEndsTheCallAndItsCancellationReachesTheServer() throws Exception {
        long start = System.nanoTime();
        assertThatThrownBy(() -> SimpleServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(500, TimeUnit.MILLISECONDS)
                .unaryRpc(req("slow")))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(15_000);
        assertThat(slowCallCancelled.get(20, TimeUnit.SECONDS)).isTrue();
        // the connection through Bulwark is still good
        assertThat(SimpleServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .unaryRpc(req("again")).getResponseMessage()).isEqualTo("unary:again");
    }

    private static StreamObserver<SimpleResponse> observer(CompletableFuture<SimpleResponse> last,
                                                           List<SimpleResponse> all) {
        return new StreamObserver<>() {
            @Override
            public void onNext(SimpleResponse value) {
                all.add(value);
                last.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                last.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                last.complete(all.isEmpty() ? null : all.get(all.size() - 1));
            }
        };
    }

    /** The upstream service: echoes, concatenates, streams, and holds a "slow" call until it is cancelled. */
    private final class Service extends SimpleServiceGrpc.SimpleServiceImplBase {
        @Override
        public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
            switch (request.getRequestMessage()) {
                case "fail" -> out.onError(Status.NOT_FOUND.withDescription("no such thing").asRuntimeException());
                case "slow" -> {
                    CountDownLatch never = new CountDownLatch(1);
                    ((ServerCallStreamObserver<SimpleResponse>) out).setOnCancelHandler(() -> {
                        slowCallCancelled.complete(true);
                        never.countDown();
                    });
                }
                default -> {
                    out.onNext(resp("unary:" + request.getRequestMessage()));
                    out.onCompleted();
                }
            }
        }

        @Override
        public StreamObserver<SimpleRequest> clientStreamingRpc(StreamObserver<SimpleResponse> out) {
            StringBuilder all = new StringBuilder();
            return new StreamObserver<>() {
                @Override
                public void onNext(SimpleRequest value) {
                    all.append(value.getRequestMessage());
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    out.onNext(resp(all.toString()));
                    out.onCompleted();
                }
            };
        }

        @Override
        public void serverStreamingRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
            int n = Integer.parseInt(request.getRequestMessage());
            String filler = "x".repeat(32 * 1024);
            for (int i = 0; i < n; i++) {
                out.onNext(resp(i + ":" + filler));
            }
            out.onCompleted();
        }

        @Override
        public StreamObserver<SimpleRequest> bidiStreamingRpc(StreamObserver<SimpleResponse> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(SimpleRequest value) {
                    out.onNext(resp("pong:" + value.getRequestMessage()));
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    out.onCompleted();
                }
            };
        }
    }
}
