package io.bulwark.proxy.server;

import io.bulwark.proxy.testing.GrpcLikeUpstream;
import io.bulwark.proxy.testing.GrpcLikeUpstream.Answer;
import io.bulwark.proxy.testing.H2Client;
import io.bulwark.proxy.testing.ProxyHarness;
import io.bulwark.routing.Upstream;
import io.bulwark.routing.outlier.OutlierState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * gRPC statuses in the resilience layers, over real sockets: {@code retry-on} gRPC statuses retry a
 * trailers-only answer on another upstream (a POST, as every gRPC call), never one whose status came
 * after a streamed body; and the outlier detector counts UNAVAILABLE as a gateway failure, in the
 * head or in the trailers.
 */
class GrpcRetryAndOutlierTest {

    private final List<AutoCloseable> open = new ArrayList<>();
    private ProxyHarness proxy;

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private GrpcLikeUpstream upstream(String name, Answer answer) throws InterruptedException {
        GrpcLikeUpstream u = GrpcLikeUpstream.always(name, answer);
        open.add(u);
        return u;
    }

    private static H2Client.Response call(H2Client client, String path) throws Exception {
        return client.send("POST", path, Map.of("content-type", "application/grpc", "te", "trailers"), new byte[5])
                .get(10, TimeUnit.SECONDS);
    }

    private static String grpcStatus(H2Client.Response r) {
        String inHead = r.header("grpc-status");
        if (inHead != null) {
            return inHead;
        }
        CharSequence inTrailers = r.trailers() == null ? null : r.trailers().get("grpc-status");
        return inTrailers == null ? null : inTrailers.toString();
    }

    @Test
    void anUnavailableTrailersOnlyAnswerIsRetriedOnAnotherUpstream() throws Exception {
        GrpcLikeUpstream bad = upstream("bad", Answer.trailersOnly(14));
        GrpcLikeUpstream good = upstream("good", Answer.streamed("ok", 0));
        proxy = ProxyHarness.start("""
                clusters { svc { endpoints = [ "%s", "%s" ], outlier-detection { consecutive-gateway-failure = 100,
                                 consecutive-5xx = 100 } } }
                routes = [ { name = r, cluster = svc, retry { max-retries = 1, retry-on = [ unavailable ] } } ]
                """.formatted(bad.address(), good.address()));
        try (H2Client client = H2Client.h2c(proxy.port())) {
            for (int i = 0; i < 4; i++) {
                H2Client.Response r = call(client, "/pkg.Svc/M");
                assertThat(grpcStatus(r)).as("call %d", i).isEqualTo("0");
                assertThat(r.body()).isEqualTo("ok");
            }
        }
        assertThat(bad.calls()).as("round-robin sent first tries to the failing upstream").isPositive();
        assertThat(good.calls()).isEqualTo(4);
        assertThat(good.received()).anySatisfy(h -> assertThat(h.get("x-bulwark-attempt")).isEqualTo("2"));
        assertThat(proxy.admin("/metrics").body())
                .containsPattern("bulwark_retries_total\\{reason=\"unavailable\",route=\"r\"} [1-9]");
    }

    @Test
    void aStatusNotListedInRetryOnIsPassedThrough() throws Exception {
        GrpcLikeUpstream exhausted = upstream("exhausted", Answer.trailersOnly(8));
        proxy = ProxyHarness.start("""
                clusters { svc { endpoints = [ "%s" ] } }
                routes = [ { name = r, cluster = svc, retry { max-retries = 2, retry-on = [ unavailable ] } } ]
                """.formatted(exhausted.address()));
        try (H2Client client = H2Client.h2c(proxy.port())) {
            H2Client.Response r = call(client, "/pkg.Svc/M");
            assertThat(grpcStatus(r)).isEqualTo("8");
            assertThat(r.header("x-bulwark-error")).isNull();
        }
        assertThat(exhausted.calls()).isEqualTo(1);
    }

    @Test
    void aStatusAfterAStreamedBodyIsNeverRetried() throws Exception {
        GrpcLikeUpstream streamedBad = upstream("streamed-bad", Answer.streamed("partial", 14));
        GrpcLikeUpstream good = upstream("good", Answer.streamed("ok", 0));
        proxy = ProxyHarness.start("""
                clusters { svc { endpoints = [ "%s", "%s" ], outlier-detection { consecutive-gateway-failure = 100,
                                 consecutive-5xx = 100 } } }
                routes = [ { name = r, cluster = svc, retry { max-retries = 2, retry-on = [ unavailable ] } } ]
                """.formatted(streamedBad.address(), good.address()));
        int unavailable = 0;
        try (H2Client client = H2Client.h2c(proxy.port())) {
            for (int i = 0; i < 4; i++) {
                H2Client.Response r = call(client, "/pkg.Svc/M");
                if ("14".equals(grpcStatus(r))) {
                    unavailable++;
                    assertThat(r.body()).isEqualTo("partial");
                    assertThat(r.header("grpc-status")).as("the status came in the trailers").isNull();
                }
            }
        }
        assertThat(unavailable).as("round-robin reached the streaming upstream").isPositive();
        assertThat(streamedBad.calls() + good.calls()).as("one try per call: nothing retried").isEqualTo(4);
    }

    @Test
    void anUpstreamAnsweringUnavailableIsEjectedWhetherTheStatusIsInTheHeadOrTheTrailers() throws Exception {
        GrpcLikeUpstream trailersOnly = upstream("head-14", Answer.trailersOnly(14));
        GrpcLikeUpstream inTrailers = upstream("trailer-14", Answer.streamed("partial", 14));
        GrpcLikeUpstream good = upstream("good", Answer.streamed("ok", 0));
        GrpcLikeUpstream good2 = upstream("good2", Answer.streamed("ok", 0));
        proxy = ProxyHarness.start("""
                clusters {
                  head { endpoints = [ "%s", "%s" ], outlier-detection { consecutive-gateway-failure = 3,
                         max-ejection-percent = 50 } }
                  trailer { endpoints = [ "%s", "%s" ], outlier-detection { consecutive-gateway-failure = 3,
                            max-ejection-percent = 50 } }
                }
                routes = [
                  { match { path-prefix = "/head/" }, cluster = head, retry { max-retries = 0 } }
                  { match { path-prefix = "/trailer/" }, cluster = trailer, retry { max-retries = 0 } }
                ]
                """.formatted(trailersOnly.address(), good.address(), inTrailers.address(), good2.address()));
        try (H2Client client = H2Client.h2c(proxy.port())) {
            for (int i = 0; i < 8; i++) {
                call(client, "/head/pkg.Svc/M");
                call(client, "/trailer/pkg.Svc/M");
            }
        }
        assertEjected("head", trailersOnly.address());
        assertEjected("trailer", inTrailers.address());
        assertThat(outlier("head", good.address())).isEmpty();
        assertThat(trailersOnly.calls()).as("no calls once ejected").isEqualTo(3);
        assertThat(inTrailers.calls()).isEqualTo(3);
    }

    private Optional<OutlierState> outlier(String cluster, String address) {
        Upstream u = proxy.bulwark().snapshot().clusters().get(cluster).upstreams().stream()
                .filter(x -> x.address().equals(address)).findFirst().orElseThrow();
        return u.outlier();
    }

    private void assertEjected(String cluster, String address) {
        assertThat(outlier(cluster, address)).as(cluster + " " + address).hasValueSatisfying(
                s -> assertThat(s.reason()).isEqualTo("consecutive_gateway_failure"));
    }
}
