package io.bulwark.routing.retry;

import io.bulwark.config.RetryConfig;
import io.bulwark.routing.ManualClock;
import io.bulwark.routing.retry.Backoff.RetryAfterAction;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

class BackoffTest {

    private static final RetryConfig.Backoff CONFIG = new RetryConfig.Backoff(Duration.ofMillis(25), Duration.ofMillis(250));
    private static final long SECOND = 1_000_000_000L;

    private final ManualClock clock = new ManualClock();

    private static long ms(long millis) {
        return Duration.ofMillis(millis).toNanos();
    }

    @Test
    void ceilingDoublesWithEachRetryUpToTheMax() {
        Backoff backoff = new Backoff(CONFIG, clock, () -> 1.0);

        assertThat(backoff.ceilingNanos(1)).isEqualTo(ms(25));
        assertThat(backoff.ceilingNanos(2)).isEqualTo(ms(50));
        assertThat(backoff.ceilingNanos(3)).isEqualTo(ms(100));
        assertThat(backoff.ceilingNanos(4)).isEqualTo(ms(200));
        assertThat(backoff.ceilingNanos(5)).isEqualTo(ms(250));
        assertThat(backoff.ceilingNanos(1_000)).isEqualTo(ms(250));
    }

    @Test
    void fullJitterSpansZeroToTheCeiling() {
        assertThat(new Backoff(CONFIG, clock, () -> 0.0).delayNanos(3)).isZero();
        assertThat(new Backoff(CONFIG, clock, () -> 1.0).delayNanos(3)).isEqualTo(ms(100));
        assertThat(new Backoff(CONFIG, clock, () -> 0.5).delayNanos(3)).isEqualTo(ms(50));
    }

    @Test
    void defaultRandomStaysWithinTheCeiling() {
        Backoff backoff = new Backoff(CONFIG, clock);
        for (int i = 0; i < 1_000; i++) {
            assertThat(backoff.delayNanos(2)).isBetween(0L, ms(50));
        }
    }

    @Test
    void zeroBaseMeansNoWait() {
        Backoff backoff = new Backoff(new RetryConfig.Backoff(Duration.ZERO, Duration.ZERO), clock, () -> 1.0);
        assertThat(backoff.delayNanos(5)).isZero();
    }

    @Test
    void retryAfterInDeltaSecondsIsUsedWhenItFitsTheDeadline() {
        Backoff backoff = new Backoff(CONFIG, clock, () -> 1.0);

        Backoff.RetryAfter wait = backoff.retryAfter("2", 5 * SECOND);
        assertThat(wait.action()).isEqualTo(RetryAfterAction.WAIT);
        assertThat(wait.delayNanos()).isEqualTo(2 * SECOND);

        assertThat(backoff.retryAfter("0", 5 * SECOND)).isEqualTo(new Backoff.RetryAfter(RetryAfterAction.WAIT, 0));
    }

    @Test
    void retryAfterBeyondTheDeadlineMeansDoNotRetry() {
        Backoff backoff = new Backoff(CONFIG, clock, () -> 1.0);

        assertThat(backoff.retryAfter("5", 5 * SECOND).action()).isEqualTo(RetryAfterAction.DONT_RETRY);
        assertThat(backoff.retryAfter("99999999999999999999", Long.MAX_VALUE - 1).action())
                .isEqualTo(RetryAfterAction.DONT_RETRY);
    }

    @Test
    void retryAfterAsAnHttpDateIsReadAgainstTheClock() {
        Backoff backoff = new Backoff(CONFIG, clock, () -> 1.0);
        Instant now = Instant.ofEpochMilli(clock.currentTimeMillis());
        String in3s = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.plusSeconds(3).atOffset(ZoneOffset.UTC));

        Backoff.RetryAfter wait = backoff.retryAfter(in3s, 10 * SECOND);

        assertThat(wait.action()).isEqualTo(RetryAfterAction.WAIT);
        assertThat(wait.delayNanos()).isEqualTo(3 * SECOND);
        assertThat(backoff.retryAfter(in3s, 2 * SECOND).action()).isEqualTo(RetryAfterAction.DONT_RETRY);
    }

    @Test
    void anHttpDateInThePastMeansRetryAtOnce() {
        Backoff backoff = new Backoff(CONFIG, clock, () -> 1.0);
        assertThat(backoff.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", SECOND))
                .isEqualTo(new Backoff.RetryAfter(RetryAfterAction.WAIT, 0));
    }

    @Test
    void obsoleteHttpDateFormsAreUnderstood() {
        Instant now = Instant.ofEpochMilli(clock.currentTimeMillis());
        var in7s = now.plusSeconds(7).atOffset(ZoneOffset.UTC);
        String rfc850 = DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", Locale.US).format(in7s);
        String asctime = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US).format(in7s);

        assertThat(RetryAfterHeader.delayMillis(rfc850, clock.currentTimeMillis())).hasValue(7_000);
        assertThat(RetryAfterHeader.delayMillis(asctime, clock.currentTimeMillis())).hasValue(7_000);
        assertThat(RetryAfterHeader.delayMillis("Sunday, 06-Nov-94 08:49:37 GMT", clock.currentTimeMillis()))
                .as("a two-digit year more than 50 years ahead is in the past century").hasValue(0);
    }

    @Test
    void aMissingOrMalformedRetryAfterFallsBackToTheBackoff() {
        Backoff backoff = new Backoff(CONFIG, clock, () -> 1.0);
        for (String value : new String[] {null, "", "  ", "-1", "1.5", "soon", "Sun, 99 Nov 1994 08:49:37 GMT"}) {
            assertThat(backoff.retryAfter(value, SECOND).action()).as(String.valueOf(value))
                    .isEqualTo(RetryAfterAction.USE_BACKOFF);
        }
    }
}
