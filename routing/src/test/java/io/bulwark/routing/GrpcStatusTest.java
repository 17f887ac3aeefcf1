package io.bulwark.routing;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class GrpcStatusTest {

    @Test
    void grpcTimeoutTakesEachUnitOfTheSpec() {
        assertThat(GrpcStatus.parseTimeoutNanos("2H")).isEqualTo(TimeUnit.HOURS.toNanos(2));
        assertThat(GrpcStatus.parseTimeoutNanos("3M")).isEqualTo(TimeUnit.MINUTES.toNanos(3));
        assertThat(GrpcStatus.parseTimeoutNanos("2S")).isEqualTo(TimeUnit.SECONDS.toNanos(2));
        assertThat(GrpcStatus.parseTimeoutNanos("100m")).isEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
        assertThat(GrpcStatus.parseTimeoutNanos("250u")).isEqualTo(250_000L);
        assertThat(GrpcStatus.parseTimeoutNanos("7n")).isEqualTo(7L);
        assertThat(GrpcStatus.parseTimeoutNanos("0m")).isZero();
        assertThat(GrpcStatus.parseTimeoutNanos("99999999H")).as("saturates").isEqualTo(Long.MAX_VALUE);
        assertThat(GrpcStatus.parseTimeoutNanos("99999999S")).isEqualTo(99_999_999L * 1_000_000_000L);
    }

    @Test
    void aMalformedGrpcTimeoutIsNone() {
        for (String bad : new String[] {"", "m", "100", "100ms", "1.5S", "-1S", "100x", "123456789S", " 1S", "1s"}) {
            assertThat(GrpcStatus.parseTimeoutNanos(bad)).as(bad).isEqualTo(-1);
        }
        assertThat(GrpcStatus.parseTimeoutNanos(null)).isEqualTo(-1);
    }

    @Test
    void httpStatusesMapAsGrpcsOwnTable() {
        assertThat(GrpcStatus.fromHttp(503)).isEqualTo(GrpcStatus.UNAVAILABLE);
        assertThat(GrpcStatus.fromHttp(429)).isEqualTo(GrpcStatus.UNAVAILABLE);
        assertThat(GrpcStatus.fromHttp(502)).isEqualTo(GrpcStatus.UNAVAILABLE);
        assertThat(GrpcStatus.fromHttp(504)).isEqualTo(GrpcStatus.UNAVAILABLE);
        assertThat(GrpcStatus.fromHttp(404)).isEqualTo(GrpcStatus.UNIMPLEMENTED);
        assertThat(GrpcStatus.fromHttp(400)).isEqualTo(GrpcStatus.INTERNAL);
        assertThat(GrpcStatus.fromHttp(401)).isEqualTo(GrpcStatus.UNAUTHENTICATED);
        assertThat(GrpcStatus.fromHttp(403)).isEqualTo(GrpcStatus.PERMISSION_DENIED);
        assertThat(GrpcStatus.fromHttp(500)).isEqualTo(GrpcStatus.UNKNOWN);
        assertThat(GrpcStatus.fromHttp(418)).isEqualTo(GrpcStatus.UNKNOWN);
    }

    @Test
    void onlyUnavailableInternalAndDeadlineExceededAreFailures() {
        for (int s = 0; s <= 16; s++) {
            assertThat(GrpcStatus.isFailure(s)).as("status %d", s).isEqualTo(s == 4 || s == 13 || s == 14);
        }
        assertThat(GrpcStatus.outlierHttpStatus(14)).isEqualTo(503);
        assertThat(GrpcStatus.outlierHttpStatus(4)).isEqualTo(504);
        assertThat(GrpcStatus.outlierHttpStatus(13)).isEqualTo(500);
        assertThat(GrpcStatus.outlierHttpStatus(5)).isEqualTo(200);
    }

    @Test
    void contentTypesAndStatusValues() {
        assertThat(GrpcStatus.isGrpc("application/grpc")).isTrue();
        assertThat(GrpcStatus.isGrpc("application/grpc+proto")).isTrue();
        assertThat(GrpcStatus.isGrpc("Application/GRPC; charset=utf-8")).isTrue();
        assertThat(GrpcStatus.isGrpc("application/json")).isFalse();
        assertThat(GrpcStatus.isGrpc(null)).isFalse();
        assertThat(GrpcStatus.parse("14")).isEqualTo(14);
        assertThat(GrpcStatus.parse(" 0 ")).isZero();
        assertThat(GrpcStatus.parse(null)).isEqualTo(GrpcStatus.NONE);
        assertThat(GrpcStatus.parse("x")).isEqualTo(GrpcStatus.UNKNOWN);
    }

    @Test
    void aGrpcAnswerIsJudgedByItsStatus() {
        assertThat(TryOutcome.grpc(200, 14, 0).judgedStatus()).isEqualTo(503);
        assertThat(TryOutcome.grpc(200, 0, 0).judgedStatus()).isEqualTo(200);
        assertThat(TryOutcome.response(502, 0).judgedStatus()).isEqualTo(502);
        assertThat(TryOutcome.grpc(200, 14, 0).tag()).isEqualTo("2xx");
    }
}
