package io.bulwark.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class DidYouMeanTest {

    private static final List<String> LISTENER = List.of(
            "host", "port", "max-initial-line-length", "max-header-size", "max-body-size",
            "request-header-timeout", "idle-timeout");

    @Test
    void suggestsTheClosestKeyByEditDistance() {
        assertThat(DidYouMean.suggest("prot", LISTENER)).contains("port");
        assertThat(DidYouMean.suggest("max-body-sise", LISTENER)).contains("max-body-size");
        assertThat(DidYouMean.suggest("usrs", List.of("users", "orders"))).contains("users");
    }

    @Test
    void ignoresCase() {
        assertThat(DidYouMean.suggest("PORT", LISTENER)).contains("port");
    }

    @Test
    void suggestsALongerKeyThatContainsTheInputAsWords() {
        assertThat(DidYouMean.suggest("retries", List.of("max-retries", "retry-on", "retriable-status"))).contains("max-retries");
        assertThat(DidYouMean.suggest("max-connections", List.of("max-connections-per-upstream", "idle-timeout")))
                .contains("max-connections-per-upstream");
    }

    @Test
    void suggestsByMostlySharedPrefix() {
        assertThat(DidYouMean.suggest("request-header-time", LISTENER)).contains("request-header-timeout");
    }

    @Test
    void staysQuietWhenNothingIsClose() {
        assertThat(DidYouMean.suggest("colour", LISTENER)).isEmpty();
        assertThat(DidYouMean.suggest("ab", List.of("cd"))).isEmpty();
        assertThat(DidYouMean.hint("zzz", LISTENER)).isEmpty();
    }

    @Test
    void hintIsReadyToAppend() {
        assertThat(DidYouMean.hint("prot", LISTENER)).isEqualTo(" (did you mean \"port\"?)");
    }

    @Test
    void levenshteinCountsEdits() {
        assertThat(DidYouMean.levenshtein("kitten", "sitting")).isEqualTo(3);
        assertThat(DidYouMean.levenshtein("", "abc")).isEqualTo(3);
        assertThat(DidYouMean.levenshtein("same", "same")).isZero();
    }
}
