package io.bulwark.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HostAddressesTest {

    @Test
    void parsesHostPortForms() {
        assertThat(HostAddresses.parseHostPort("127.0.0.1:9001")).isEqualTo(new HostAddresses.HostPort("127.0.0.1", 9001));
        assertThat(HostAddresses.parseHostPort("users-3.internal:9003")).isEqualTo(new HostAddresses.HostPort("users-3.internal", 9003));
        assertThat(HostAddresses.parseHostPort("[::1]:9001")).isEqualTo(new HostAddresses.HostPort("::1", 9001));
        assertThat(HostAddresses.parseHostPort("[fe80::1%eth0]:80")).isEqualTo(new HostAddresses.HostPort("fe80::1%eth0", 80));
        assertThat(HostAddresses.parseHostPort("h:65535").port()).isEqualTo(65535);
    }

    @ParameterizedTest
    @ValueSource(strings = {"h", "h:", ":80", "h:0", "h:65536", "h:8o", "::1:80", "[::1]", "[::1]80", "[::1:80",
            "[zz::1]:80", "-bad.example:80", "a..b:80", "256.1.1.1:80", "h h:80"})
    void rejectsMalformedHostPort(String text) {
        assertThatThrownBy(() -> HostAddresses.parseHostPort(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("expected: ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"::", "::1", "2001:db8::1", "1:2:3:4:5:6:7:8", "::ffff:10.0.0.1", "fe80::1%lo0", "1::"})
    void acceptsIpv6Literals(String text) {
        assertThat(HostAddresses.parseIpv6(text)).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1", ":1::", "1:2:3:4:5:6:7", "::1%"})
    void rejectsMalformedIpv6(String text) {
        assertThat(HostAddresses.parseIpv6(text)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "LOCALHOST", "127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"})
    void recognizesLoopback(String host) {
        assertThat(HostAddresses.isLoopback(host)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "localhost.example.com", "::2", "example.com"})
    void recognizesNonLoopback(String host) {
        assertThat(HostAddresses.isLoopback(host)).isFalse();
    }

    @Test
    void normalizesBindHosts() {
        assertThat(HostAddresses.normalizeBindHost("[::1]")).contains("::1");
        assertThat(HostAddresses.normalizeBindHost("0.0.0.0")).contains("0.0.0.0");
        assertThat(HostAddresses.normalizeBindHost("proxy.internal")).contains("proxy.internal");
        assertThat(HostAddresses.normalizeBindHost("1.2.3")).isEmpty();
        assertThat(HostAddresses.normalizeBindHost("a b")).isEmpty();
    }
}
