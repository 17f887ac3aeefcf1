package io.bulwark.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HttpSyntaxTest {

    @Test
    void tokensFollowRfc9110() {
        assertThat(HttpSyntax.isToken("GET")).isTrue();
        assertThat(HttpSyntax.isToken("x-custom_header.v2")).isTrue();
        assertThat(HttpSyntax.isToken("!#$%&'*+-.^_`|~")).isTrue();
        assertThat(HttpSyntax.isToken("")).isFalse();
        assertThat(HttpSyntax.isToken("a b")).isFalse();
        assertThat(HttpSyntax.isToken("a:b")).isFalse();
        assertThat(HttpSyntax.isToken("caf\u00e9")).isFalse();
    }

    @Test
    void headerValuesRejectLineBreaksAndControls() {
        assertThat(HttpSyntax.isHeaderValue("plain value\twith tab")).isTrue();
        assertThat(HttpSyntax.isHeaderValue("a\r\nInjected: yes")).isFalse();
        assertThat(HttpSyntax.isHeaderValue("a\u0000")).isFalse();
        assertThat(HttpSyntax.isHeaderValue("snow\u2603")).isFalse();
    }

    @Test
    void hostPatternsAreLowerCasedExactOrWildcard() {
        assertThat(HttpSyntax.normalizeHostPattern("API.Example.com")).contains("api.example.com");
        assertThat(HttpSyntax.normalizeHostPattern("*.Example.com")).contains("*.example.com");
        assertThat(HttpSyntax.normalizeHostPattern("[::1]")).contains("[::1]");
        assertThat(HttpSyntax.normalizeHostPattern("10.0.0.1")).contains("10.0.0.1");
        assertThat(HttpSyntax.normalizeHostPattern("a.*.com")).isEmpty();
        assertThat(HttpSyntax.normalizeHostPattern("*")).isEmpty();
        assertThat(HttpSyntax.normalizeHostPattern("example.com:80")).isEmpty();
    }
}
